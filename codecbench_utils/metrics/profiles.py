"""The two metric profiles, as data plus the functions that prepare a pair for them.

``paper`` reproduces the CodecBench reference code (Deng et al., 2025) with its quirks:

- every file is read at its own rate and resampled to 16 kHz with torchaudio's
  windowed-sinc defaults (:func:`~codecbench_utils.metrics.resample.resample_torchaudio`),
  in float32; a file already at 16 kHz stays float64 (the reference reads with
  ``soundfile`` and only resampled arrays pass through ``Tensor.float()``);
- the pair is truncated to the shorter signal, no delay compensation;
- mel loss is computed in float32 (the reference casts to float32 before its STFTs);
- PESQ NB and WB both run at fs=16000;
- "SI-SDR" is the paper's correlation variant (``si_sdr_paper``), SDR is BSSEval v3;
- ViSQOL runs in audio mode at 48 kHz (torchaudio resampling from the file's rate,
  truncation, zero padding to at least 1 s);
- SIM embeds each *full* file resampled to 16 kHz (no truncation).

``standard`` is what we recommend: soxr resampling to 16 kHz, the codec delay
estimated by cross-correlation and removed before every reference-based metric,
standard SI-SDR, mel loss in float64, PESQ-NB on 8 kHz audio, ViSQOL speech mode
(16 kHz) for speech items and audio mode (48 kHz) otherwise.

Which function computes each column in each profile, and which metric means something
for which category, is in the metric registry (:mod:`codecbench_utils.metrics.registry`);
the registry's names are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import UnknownNameError
from .registry import (
    METRIC_LABELS,
    METRICS,
    MetricSpec,
    get_metric,
    metric_is_valid,
    metric_specs,
    validity_note,
)

__all__ = [
    "METRICS",
    "PROFILES",
    "Profile",
    "PreparedPair",
    "MetricSpec",
    "get_profile",
    "prepare_pair",
    "metric_specs",
    "metric_is_valid",
    "validity_note",
    "METRIC_LABELS",
]

#: Rate every reference-based metric (except PESQ-NB standard and ViSQOL audio) runs at.
METRIC_SR = 16000
#: Largest codec delay the standard profile looks for (resynthesis already removes the known delay).
MAX_DELAY_SECONDS = 0.5
#: Sub-sample delays smaller than this are left alone (an exact integer-delayed copy stays exact).
MIN_FRACTION = 0.01
#: The reference code pads ViSQOL inputs to at least this long.
VISQOL_PAD_SECONDS = 1.0


@dataclass(frozen=True)
class Profile:
    """How pairs are prepared and which function computes each column."""

    name: str
    resampler: Literal["torchaudio", "soxr"]
    compensate_delay: bool
    pesq_nb_sr: int
    visqol_speech_mode: Literal["audio", "speech"]
    sim_full_length: bool
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


PAPER = Profile(
    name="paper", resampler="torchaudio", compensate_delay=False, pesq_nb_sr=16000,
    visqol_speech_mode="audio", sim_full_length=True,
    description="reproduces the paper's reference code value for value (quirks included)",
)
STANDARD = Profile(
    name="standard", resampler="soxr", compensate_delay=True, pesq_nb_sr=8000,
    visqol_speech_mode="speech", sim_full_length=False,
    description="delay compensated, standard SI-SDR, PESQ-NB at 8 kHz, ViSQOL speech mode for speech",
)
PROFILES: dict[str, Profile] = {"paper": PAPER, "standard": STANDARD}


def get_profile(profile: str | Profile) -> Profile:
    """Look a profile up by name (``paper`` or ``standard``)."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise UnknownNameError(f"unknown metric profile {profile!r}; choose one of {sorted(PROFILES)}") from None


@dataclass
class PreparedPair:
    """A pair ready for every metric of a profile.

    ``ref``/``est`` are the aligned 16 kHz signals most metrics use; the other
    fields hold the variants PESQ-NB, ViSQOL and SIM need (``None`` when not asked for).
    """

    ref: np.ndarray
    est: np.ndarray
    sr: int
    #: the delay removed (standard profile): whole samples plus the sub-sample rest
    delay_samples: float = 0
    #: |normalized correlation| at the chosen lag (standard profile; NaN when no delay was looked for)
    delay_confidence: float = float("nan")
    pesq_nb: tuple[np.ndarray, np.ndarray, int] | None = None
    visqol: tuple[np.ndarray, np.ndarray, int, str] | None = None
    sim: tuple[np.ndarray, np.ndarray, int] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def inputs(self, variant: str) -> tuple[np.ndarray, np.ndarray, int, dict[str, Any]]:
        """``(ref, est, sr, extra keyword arguments)`` of the variant a metric takes."""
        if variant == "aligned":
            return self.ref, self.est, self.sr, {}
        if variant == "visqol":
            r, e, sr, mode = self.visqol
            return r, e, sr, {"mode": mode}
        r, e, sr = getattr(self, variant)
        return r, e, sr, {}

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (the driver bounds what it keeps in flight)."""
        n = self.ref.nbytes + self.est.nbytes
        for extra in (self.pesq_nb, self.visqol, self.sim):
            if extra is not None:
                n += extra[0].nbytes + extra[1].nbytes
        return n


def _resample_torchaudio(wav: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """The reference's GPU resampling: float32 tensor through torchaudio's sinc kernel."""
    if orig_sr == new_sr:
        return np.asarray(wav, dtype=np.float64)  # the reference keeps soundfile's float64
    from .resample import resample_torchaudio

    return np.asarray(resample_torchaudio(np.asarray(wav, dtype=np.float32), orig_sr, new_sr), dtype=np.float32)


def _resample_soxr(wav: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    from ..audio import resample

    return np.asarray(resample(np.asarray(wav, dtype=np.float32), orig_sr, new_sr), dtype=np.float64)


def _truncate(ref: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(ref.shape[-1], est.shape[-1])
    return ref[..., :n], est[..., :n]


def _remove_delay(ref: np.ndarray, est: np.ndarray, delay_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop the lead of the late signal, then truncate (no zero-filled tail enters a metric)."""
    if delay_samples > 0:
        est = est[delay_samples:]
    elif delay_samples < 0:
        ref = ref[-delay_samples:]
    return _truncate(ref, est)


def _pad_to(wav: np.ndarray, n: int) -> np.ndarray:
    return wav if wav.shape[-1] >= n else np.concatenate([wav, np.zeros(n - wav.shape[-1], dtype=wav.dtype)])


def prepare_pair(
    ref: np.ndarray,
    ref_sr: int,
    est: np.ndarray,
    est_sr: int,
    *,
    profile: str | Profile,
    metrics: tuple[str, ...] | list[str] = METRICS,
    category: str | None = None,
) -> PreparedPair:
    """Resample and align one pair the way ``profile`` does.

    Parameters
    ----------
    ref, est : np.ndarray, shape (time,)
        Mono signals at their file rates (``ref_sr``, ``est_sr``).
    profile : {"paper", "standard"} or Profile
    metrics : sequence of str
        Only the variants these metrics need (their registry ``input``) are built.
    category : str, optional
        The item's category; picks ViSQOL's mode in the ``standard`` profile.

    Returns
    -------
    PreparedPair
    """
    prof = get_profile(profile)
    variants = {get_metric(m).input for m in metrics}
    rs = _resample_torchaudio if prof.resampler == "torchaudio" else _resample_soxr
    ref16 = rs(ref, ref_sr, METRIC_SR)
    est16 = rs(est, est_sr, METRIC_SR)
    delay, confidence, notes = 0, float("nan"), {}
    if prof.compensate_delay:
        from ..audio import find_delay

        found = find_delay(ref16, est16, max_delay_samples=int(MAX_DELAY_SECONDS * METRIC_SR))
        delay, confidence = found.samples, abs(found.confidence)
        if found.refused:
            notes["delay"] = f"not compensated: {found.reason}"
        r, e = _remove_delay(ref16, est16, delay)
        if not found.refused:  # the sub-sample rest, so a delay of 10.5 samples does not cap SI-SDR at ~15 dB
            from ..audio import FRACTION_HALF_TAPS, advance_fraction, fractional_delay

            fraction = fractional_delay(r, e)
            if abs(fraction) >= MIN_FRACTION and r.size > 4 * FRACTION_HALF_TAPS:
                cut = slice(FRACTION_HALF_TAPS, -FRACTION_HALF_TAPS)
                r, e = r[cut], advance_fraction(e, fraction)[cut].astype(e.dtype)
                delay += fraction
    else:
        r, e = _truncate(ref16, est16)
    pair = PreparedPair(ref=r, est=e, sr=METRIC_SR, delay_samples=delay, delay_confidence=confidence, notes=notes)

    if "pesq_nb" in variants:
        if prof.pesq_nb_sr == METRIC_SR:
            pair.pesq_nb = (r, e, METRIC_SR)
        else:
            nb_r, nb_e = _truncate(_resample_soxr(r, METRIC_SR, prof.pesq_nb_sr),
                                   _resample_soxr(e, METRIC_SR, prof.pesq_nb_sr))
            pair.pesq_nb = (nb_r, nb_e, prof.pesq_nb_sr)

    if "visqol" in variants:
        mode = prof.visqol_speech_mode if category == "speech" else "audio"
        if mode == "speech":
            pair.visqol = (r, e, METRIC_SR, "speech")
        else:
            vr, ve = rs(ref, ref_sr, 48000), rs(est, est_sr, 48000)
            if prof.compensate_delay:
                vr, ve = _remove_delay(vr, ve, round(delay * 3))
            else:
                vr, ve = _truncate(vr, ve)
            if prof.name == "paper":
                n_pad = int(VISQOL_PAD_SECONDS * 48000)
                vr, ve = _pad_to(vr, n_pad), _pad_to(ve, n_pad)
            pair.visqol = (np.asarray(vr, np.float64), np.asarray(ve, np.float64), 48000, "audio")

    if "sim" in variants:
        if prof.sim_full_length:
            # the reference embeds each full file: torchaudio Resample on a float32 tensor
            sr_ = _resample_torchaudio(ref, ref_sr, METRIC_SR) if ref_sr != METRIC_SR else ref
            se_ = _resample_torchaudio(est, est_sr, METRIC_SR) if est_sr != METRIC_SR else est
            pair.sim = (np.asarray(sr_, np.float32), np.asarray(se_, np.float32), METRIC_SR)
        else:
            pair.sim = (np.asarray(r, np.float32), np.asarray(e, np.float32), METRIC_SR)
    return pair
