"""The metric registry: one row per result column, the only place a metric's facts are written.

Everything else is derived from :data:`REGISTRY`: the column order of result files, which
profile computes what by default, the functions the driver calls and where they run, which
prepared variant of a pair each metric takes, the validity rule (which categories a metric
means something for), which way is better, plot labels, the packages recorded in every row,
and the paper's name for a column.

Adding a metric is: its module under ``codecbench_utils.metrics``, one row here, its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UnknownNameError

__all__ = [
    "ALL_CATEGORIES",
    "Metric",
    "MetricSpec",
    "REGISTRY",
    "METRICS",
    "PAPER_METRICS",
    "METRIC_LABELS",
    "get_metric",
    "default_metrics",
    "higher_is_better",
    "lower_is_better",
    "metric_is_valid",
    "metric_specs",
    "validity_note",
    "packages_for",
    "scored_signals",
]

ALL_CATEGORIES: tuple[str, ...] = ("speech", "music", "sound", "general")
_SPEECH = ("speech",)
#: Item fields a metric may need besides the audio.
Need = Literal["text"]
#: Which prepared variant of a pair a metric takes (see ``profiles.PreparedPair``).
Input = Literal["aligned", "pesq_nb", "visqol", "sim"]


@dataclass(frozen=True)
class Metric:
    """The facts of one result column.

    ``fn``/``batched`` may be one value or a mapping from profile name to value (the paper's
    reference computes some metrics its own way); ``kwargs`` maps a profile name to its keyword
    arguments. ``group`` names columns that one call computes together: its function takes
    ``columns`` (those asked for) and returns ``{column: value}`` for them.
    """

    name: str
    label: str
    higher_is_better: bool
    runs: Literal["batched", "pool", "model"]
    module: str
    fn: str | Mapping[str, str]
    batched: str | Mapping[str, str] | None = None
    kwargs: Mapping[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    input: Input = "aligned"
    #: categories the metric means something for (enforced in the ``standard`` profile)
    categories: tuple[str, ...] = ALL_CATEGORIES
    why: str = ""
    #: distributions whose versions every row records
    packages: tuple[str, ...] = ()
    #: the paper's column name (None: not in the paper)
    paper: str | None = None
    #: profiles that compute it when no selection is given
    default_in: tuple[str, ...] = ("paper", "standard")
    group: str | None = None
    needs: tuple[Need, ...] = ()
    #: languages (ISO 639-1) the metric covers; None: any
    languages: tuple[str, ...] | None = None
    #: for a column that scores the reference itself: the column it is the reference value of
    reference_of: str | None = None
    #: run options the function takes as keywords (the driver passes the caller's value, e.g. ``recognizer``)
    options: tuple[str, ...] = ()

    def _pick(self, value: Any, profile: str) -> Any:
        if isinstance(value, Mapping):
            return value.get(profile, value.get("standard"))
        return value

    def spec(self, profile: str) -> MetricSpec:
        """The function, batched kernel and arguments this metric uses in ``profile``."""
        kw = self.kwargs.get(profile, ())
        return MetricSpec(self.name, self.runs, self.module, self._pick(self.fn, profile),
                          self._pick(self.batched, profile), tuple(kw), self.input, self.group, self.options)


@dataclass(frozen=True)
class MetricSpec:
    """Which function computes a column and where it runs (a registry row resolved for one profile).

    ``kind`` is ``batched`` (a torch kernel in the driver process, per-item fallback ``fn``),
    ``pool`` (worker processes), or ``model`` (speaker model in the driver process).
    ``module``/``fn``/``batched`` name functions in ``codecbench_utils.metrics``.
    """

    column: str
    kind: Literal["batched", "pool", "model"]
    module: str
    fn: str
    batched: str | None = None
    kwargs: tuple[tuple[str, Any], ...] = ()
    input: Input = "aligned"
    group: str | None = None
    options: tuple[str, ...] = ()

    @property
    def unit(self) -> str:
        """What one call computes: the group's name, or the column itself."""
        return self.group or self.column

    def function(self) -> Any:
        """Import and return the per-item function."""
        import importlib

        return getattr(importlib.import_module(f"codecbench_utils.metrics.{self.module}"), self.fn)

    def batched_function(self) -> Any:
        """Import and return the batched kernel (``None`` when there is none)."""
        import importlib

        if self.batched is None:
            return None
        return getattr(importlib.import_module(f"codecbench_utils.metrics.{self.module}"), self.batched)


_PESQ_WHY = "PESQ models speech perception; undefined for music/sound"
_DNSMOS_WHY = "DNSMOS was trained on speech ratings only"
_ASR_WHY = "an ASR system's error rate needs speech with a transcript"


def _dnsmos(name: str, label: str, *, ref: bool = False) -> Metric:
    column = f"dnsmos_{name}" + ("_ref" if ref else "")
    what = "reference" if ref else "resynthesis"
    return Metric(column, f"DNSMOS {label} of the {what} (1–5, ↑)", True, "pool", "dnsmos", "dnsmos",
                  categories=_SPEECH, why=_DNSMOS_WHY, packages=("speechmos", "onnxruntime", "librosa"),
                  default_in=("standard",), group="dnsmos", reference_of=f"dnsmos_{name}" if ref else None)


def _asr(name: str, label: str, *, ref: bool = False) -> Metric:
    column = f"asr_{name}" + ("_ref" if ref else "")
    what = "the reference" if ref else "the resynthesis"
    return Metric(column, f"ASR {label} of {what} (↓)", False, "pool", "asr_error", "asr_error_rates",
                  categories=_SPEECH, why=_ASR_WHY, packages=("pocketsphinx",), default_in=("standard",),
                  group="asr", needs=("text",), languages=("en",), reference_of=f"asr_{name}" if ref else None,
                  options=("recognizer",))


#: Every result column, in table order.
REGISTRY: tuple[Metric, ...] = (
    Metric("mel_loss", "mel loss (L1 of log-mel, ↓)", False, "batched", "mel_loss", "mel_loss", "batched_mel_loss",
           # the reference casts to float32 before its STFTs (Tensor.float())
           kwargs={"paper": (("precision", "float32"),), "standard": (("precision", "float64"),)},
           packages=("librosa",), paper="Mel Loss"),
    Metric("mse", "MSE (waveform, ↓)", False, "batched", "mse", "mse", "batched_mse", paper="MSE"),
    Metric("pesq_nb", "PESQ-NB (MOS-LQO 1–4.5, ↑)", True, "pool", "pesq", "pesq_nb", input="pesq_nb",
           categories=_SPEECH, why="PESQ models telephone-band speech perception; undefined for music/sound",
           packages=("pesq",), paper="PESQ-NB"),
    Metric("pesq_wb", "PESQ-WB (MOS-LQO 1–4.6, ↑)", True, "pool", "pesq", "pesq_wb", categories=_SPEECH,
           why=_PESQ_WHY, packages=("pesq",), paper="PESQ-WB"),
    Metric("sc", "spectral convergence (↓)", False, "batched", "sc", "sc", "batched_sc", packages=("librosa",),
           paper="SC"),
    Metric("sdr", "SDR (dB, ↑)", True, "pool", "sdr", "sdr", packages=("mir_eval",), paper="SDR"),
    Metric("si_sdr", "SI-SDR (dB, ↑)", True, "batched", "si_sdr",
           # the paper's "SI-SDR" is a correlation variant of its reference code
           {"paper": "si_sdr_paper", "standard": "si_sdr"},
           {"paper": "batched_si_sdr_paper", "standard": "batched_si_sdr"}, paper="SI-SDR"),
    Metric("sim", "speaker similarity (cosine, ↑)", True, "model", "sim", "sim", input="sim", categories=_SPEECH,
           why="speaker embeddings are trained on speech only", packages=("resemblyzer", "transformers"),
           paper="SIM"),
    # the paper's reference has its own STOI port (not pystoi): see metrics.stoi.stoi_paper
    Metric("stoi", "STOI (0–1, ↑)", True, "batched", "stoi", {"paper": "stoi_paper", "standard": "fast_stoi"},
           {"paper": "batched_stoi_paper", "standard": "batched_stoi"}, kwargs={"standard": (("extended", False),)},
           categories=_SPEECH, why="STOI predicts speech intelligibility", packages=("pystoi",), paper="STOI"),
    Metric("visqol", "ViSQOL (MOS-LQO 1–5, ↑)", True, "pool", "visqol", "visqol", input="visqol",
           why="speech mode for speech items, audio mode otherwise", packages=("visqol-python",), paper="ViSQOL"),
    _dnsmos("sig", "SIG"), _dnsmos("bak", "BAK"), _dnsmos("ovrl", "OVRL"), _dnsmos("p808", "P.808"),
    _dnsmos("sig", "SIG", ref=True), _dnsmos("bak", "BAK", ref=True), _dnsmos("ovrl", "OVRL", ref=True),
    _dnsmos("p808", "P.808", ref=True),
    _asr("wer", "word error rate"), _asr("cer", "character error rate"),
    _asr("wer", "word error rate", ref=True), _asr("cer", "character error rate", ref=True),
)
_BY_NAME: dict[str, Metric] = {m.name: m for m in REGISTRY}

#: Every result column, in table order.
METRICS: tuple[str, ...] = tuple(_BY_NAME)
#: The paper's ten columns.
PAPER_METRICS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.paper is not None)
#: How each metric is named on a plot axis: name, scale or unit, and which way is better.
METRIC_LABELS: dict[str, str] = {m.name: m.label for m in REGISTRY}


def get_metric(name: str) -> Metric:
    """The registry row of a column (UnknownNameError naming the choices otherwise)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError(f"unknown metric {name!r}; choose from {list(METRICS)}") from None


def default_metrics(profile: str) -> tuple[str, ...]:
    """The columns ``profile`` computes when no selection is given."""
    return tuple(m.name for m in REGISTRY if profile in m.default_in)


def higher_is_better(name: str) -> bool:
    """Which way is better (unknown columns, e.g. probe accuracies, count as higher-is-better)."""
    m = _BY_NAME.get(name)
    return True if m is None else m.higher_is_better


def lower_is_better() -> frozenset[str]:
    """The registry's lower-is-better columns."""
    return frozenset(m.name for m in REGISTRY if not m.higher_is_better)


def metric_is_valid(metric: str, category: str | None, profile: str = "standard") -> bool:
    """Whether ``metric`` is meaningful for ``category``.

    The ``paper`` profile computes its own ten columns on every category, as the reference
    code did; metrics the paper did not have follow the rule in every profile.
    """
    m = get_metric(metric)
    if category is None or (profile == "paper" and m.paper is not None):
        return True
    return category in m.categories


def validity_note(metric: str) -> str:
    """One line saying where ``metric`` is meaningful (for table footnotes)."""
    m = get_metric(metric)
    if m.categories == ALL_CATEGORIES:
        return f"{metric}: all categories" + (f" ({m.why})" if m.why else "")
    return f"{metric}: {', '.join(m.categories)} only ({m.why})"


def metric_specs(profile: str) -> dict[str, MetricSpec]:
    """Column -> :class:`MetricSpec` for a profile."""
    return {m.name: m.spec(profile) for m in REGISTRY}


def scored_signals(columns: tuple[str, ...] | None) -> tuple[str, ...]:
    """Which signals a group's asked-for columns need: ``""`` (the resynthesis), ``"_ref"`` (the reference)."""
    if columns is None:
        return ("", "_ref")
    return tuple(s for s in ("", "_ref") if any(c.endswith("_ref") == bool(s) for c in columns))


def packages_for(metrics: tuple[str, ...] | list[str]) -> set[str]:
    """Distributions behind the selected metrics (their versions go into every row)."""
    return {p for name in metrics for p in get_metric(name).packages}


if __name__ == "__main__":  # a one-screen listing of the registry
    for _m in REGISTRY:
        _where = ",".join(c[:2] for c in _m.categories) if _m.categories != ALL_CATEGORIES else "all"
        print(f"{_m.name:16s} {'↑' if _m.higher_is_better else '↓'} {_m.runs:7s} {_where:5s} "
              f"{'/'.join(_m.default_in):14s} {_m.label}")
