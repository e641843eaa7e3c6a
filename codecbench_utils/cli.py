"""The ``codecbench`` command. It only parses arguments and calls drivers.

Each subcommand has an ``_add_<name>`` function that registers its parser and
sets ``func``; heavy imports happen inside the handlers so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

logger = logging.getLogger(__name__)


def _print_table(rows: list[dict], columns: Sequence[str], headers: dict[str, str] | None = None) -> None:
    head = {c: (headers or {}).get(c, c) for c in columns}
    widths = {c: max(len(head[c]), *(len(_fmt(r.get(c))) for r in rows)) if rows else len(head[c]) for c in columns}
    print("  ".join(head[c].ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns).rstrip())


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)


def _key_value(text: str, flag: str, form: str) -> tuple[str, object]:
    """Split ``KEY=VALUE`` from a repeatable flag; the value is parsed as a YAML scalar (10, true, 1e-3)."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"codecbench: error: {flag} expects {form}, got '{text}'")
    return key, yaml.safe_load(value)


def _old_flag(parser: argparse.ArgumentParser, flag: str = "--profile") -> None:
    """An old flag kept for one release: hidden from --help, read by :func:`_renamed_flag`."""
    parser.add_argument(flag, dest="old_" + flag.lstrip("-").replace("-", "_"), default=None, help=argparse.SUPPRESS)


def _renamed_flag(args: argparse.Namespace, new_flag: str, new_value: object, old_flag: str = "--profile") -> object:
    """The value of ``new_flag``, or of its old name when only that was given (with a deprecation warning)."""
    import warnings

    from .errors import CodecBenchDeprecationWarning

    old = getattr(args, "old_" + old_flag.lstrip("-").replace("-", "_"), None)
    if old is None:
        return new_value
    warnings.warn(f"codecbench {args.command}: {old_flag} is now {new_flag}; the old flag goes away in the next "
                  "release", CodecBenchDeprecationWarning, stacklevel=2)
    return old


# ---------------------------------------------------------------- data
def _add_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="list and prepare datasets")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    pl = dsub.add_parser("list", help="list dataset recipes")
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.set_defaults(func=_cmd_data_list)
    pp = dsub.add_parser("prepare", help="write a manifest from a dataset's native layout")
    pp.add_argument("name", help="dataset recipe (see `codecbench data list`)")
    pp.add_argument("--root", required=True, help="folder the dataset was unpacked into (mini: where to generate it)")
    pp.add_argument("--out", required=True, help="manifest .jsonl to write")
    pp.add_argument("--subset", default=None, help="one part of the dataset (e.g. test-clean)")
    pp.add_argument("--strict", action="store_true", help="fail on any bad file instead of skipping it")
    pp.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                    help="a recipe keyword, e.g. -o size=medium (mini), -o mode=both (libri2mix), "
                         "-o name=mine (folder)")
    pp.add_argument("--category-from-dirs", action="store_true",
                    help="folder: category from the top-level folder (speech/, music/, sound/, general/)")
    pp.add_argument("--labels", default=None, metavar="CSV",
                    help="folder: CSV with columns file and any of label, text, speaker, split, category, language")
    pp.set_defaults(func=_cmd_data_prepare)


def _cmd_data_list(args: argparse.Namespace) -> int:
    from .data.registry import list_datasets

    rows = list_datasets()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, ["name", "category", "license", "size", "subsets"])
    return 0


def _cmd_data_prepare(args: argparse.Namespace) -> int:
    from .data.registry import prepare_dataset

    kwargs: dict[str, object] = {"strict": True} if args.strict else {}
    if args.category_from_dirs:
        kwargs["category_from_dirs"] = True
    if args.labels:
        kwargs["labels"] = args.labels
    for opt in args.option:
        key, value = _key_value(opt, "-o", "KEY=VALUE")
        kwargs[key.replace("-", "_")] = value
    items = prepare_dataset(args.name, args.root, subset=args.subset, out=args.out, **kwargs)
    logger.info("wrote %d items to %s", len(items), args.out)
    print(f"{len(items)} items -> {args.out}")
    return 0


# ---------------------------------------------------------------- codecs
def _add_codecs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("codecs", help="list codecs, fetch their weights")
    csub = p.add_subparsers(dest="codecs_cmd", required=True)
    pl = csub.add_parser("list", help="every codec configuration and whether it can run here")
    pl.add_argument("--json", action="store_true", help="machine-readable output, every field and the full reasons")
    pl.add_argument("--runs", default="runs", help="with --json: each codec's conformance from <runs>/<codec>/"
                    "conformance.json (`codecbench codecs check`), when measured on the same fingerprint")
    pl.add_argument("--wide", action="store_true", help="one line per codec with its full reason (for grep; wider "
                    "than the terminal)")
    pl.set_defaults(func=_cmd_codecs_list)
    pf = csub.add_parser("fetch", help="download the weights a codec declares (pinned URLs + sha256, or a "
                         "pinned Hugging Face repo@revision)")
    pf.add_argument("ids", nargs="+", metavar="ID", help="codec ids (see `codecbench codecs list`)")
    pf.add_argument("--dry-run", action="store_true", help="print what would be downloaded, download nothing")
    pf.set_defaults(func=_cmd_codecs_fetch)
    pc = csub.add_parser("check", help="the conformance suite: length, sample rate, delay, determinism, batch == "
                         "single, embedding shape")
    pc.add_argument("ids", nargs="+", metavar="ID", help="codec ids (see `codecbench codecs list`)")
    pc.add_argument("--runs", default="runs", help="each report goes to <runs>/<codec>/conformance.json")
    pc.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    pc.set_defaults(func=_cmd_codecs_check)


def _cmd_codecs_list(args: argparse.Namespace) -> int:
    import textwrap

    from .codecs.registry import list_codecs

    rows = list_codecs()
    if args.json:
        from .codecs.conformance import read_report
        from .codecs.fingerprint import codec_fingerprint
        from .codecs.registry import get_spec
        from .layout import RunsLayout

        layout = RunsLayout(args.runs)
        for r in rows:
            report = read_report(layout.conformance_file(r["id"]), fingerprint=codec_fingerprint(get_spec(r["id"])))
            r["conformance"] = {x["name"]: x["status"] for x in report["results"]} if report else None
        print(json.dumps(rows, indent=2))
        return 0
    # the family is in the id (and in --wide, --json): the compact table keeps to a 100-column terminal
    columns = ["id", "backend", "sample_rate", "n_q", "kbps", "frame_rate", "embedding_dim", "available"]
    headers = {"sample_rate": "Hz", "frame_rate": "frames/s", "embedding_dim": "dim"}
    if args.wide:
        for r in rows:
            r["available"] = "yes" if r["available"] else "no"
            r["reason"] = r["reason"] or ""
        _print_table(rows, ["id", "family", *columns[1:], "reason"], headers=headers)
        return 0
    for r in rows:
        r["available"] = "yes" if r["available"] else "no (below)"
    _print_table(rows, columns, headers=headers)
    blocked = [r for r in rows if r["reason"]]
    if blocked:  # the whole reason, wrapped to the terminal: it names the command or setting that fixes it
        import shutil

        width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
        print("\nWhy some cannot run here:")
        for r in blocked:
            print(textwrap.fill(r["reason"], width=width, initial_indent=f"  {r['id']}: ",
                                subsequent_indent="      "))
    return 0


def _cmd_codecs_fetch(args: argparse.Namespace) -> int:
    from .codecs.fetch import run_plan
    from .codecs.registry import codec_class, get_spec

    specs = [get_spec(codec_id) for codec_id in args.ids]  # every id checked before anything downloads
    for spec in specs:
        plan = codec_class(spec).fetch_plan(spec)
        if plan is None:
            print(f"{spec.id}: nothing to download (no weights, or a local checkout named in its YAML)")
        elif args.dry_run:
            print("\n".join(plan.describe()))
        else:
            run_plan(plan)
    return 0


def _cmd_codecs_check(args: argparse.Namespace) -> int:
    from .codecs.conformance import check_codec
    from .codecs.registry import codec_class, get_spec, load_codec
    from .layout import RunsLayout

    specs = [get_spec(codec_id) for codec_id in args.ids]  # every id checked before anything loads
    layout = RunsLayout(args.runs)
    ok = True
    for spec in specs:
        why = codec_class(spec).available(spec)
        if why:  # the others are still checked; the exit status says one could not be
            print(f"{spec.id}: not checked, it cannot run here: {why}")
            ok = False
            continue
        codec = load_codec(spec, device=args.device)
        try:
            report = check_codec(codec)
        finally:
            codec.close()
        path = report.write(layout.conformance_file(spec.id))
        print(report.describe() + f"\n  -> {path}")
        ok &= report.ok
    return 0 if ok else 1


# ---------------------------------------------------------------- resynth
def _add_resynth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resynth", help="resynthesize a manifest through a codec")
    p.add_argument("--codec", required=True, help="codec id (see `codecbench codecs list`)")
    p.add_argument("--manifest", required=True, help="manifest JSONL (`codecbench data prepare`)")
    p.add_argument("--out", required=True, help="output folder: <out>/<item id>.flac + index.jsonl")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (TFLite and classical codecs run on the CPU)")
    p.add_argument("--limit", type=int, default=None, help="process at most this many items")
    p.add_argument("--batch-size", type=int, default=None,
                   help="items per codec call (neural codecs; default: the codec's own, 1 for most)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_resynth)


def _cmd_resynth(args: argparse.Namespace) -> int:
    from .codecs.resynth import resynthesize

    summary = resynthesize(args.codec, args.manifest, args.out, device=args.device, limit=args.limit,
                           batch_size=args.batch_size, progress=not args.no_progress)
    print(summary.describe())
    return 0 if summary.n_failed == 0 else 1


# ---------------------------------------------------------------- metrics
def _add_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="acoustic metrics of estimates against references")
    p.add_argument("--ref", default=None, help="folder of reference audio (or use --manifest)")
    p.add_argument("--est", required=True, help="folder of estimates (same relative paths, or <id>.flac)")
    p.add_argument("--metric-profile", default=None, choices=["paper", "standard"],
                   help="paper: the reference code's values; standard: what we recommend (required)")
    _old_flag(p)
    p.add_argument("--out", required=True, help="results .csv or .parquet")
    p.add_argument("--metrics", default=None,
                   help="comma-separated columns (default: the profile's: paper the paper's ten; standard adds "
                        "DNSMOS and ASR error rates); `python -m codecbench_utils.metrics.registry` lists them")
    p.add_argument("--manifest", default=None, help="manifest JSONL: items, categories, reference paths")
    p.add_argument("--codec", default=None, help="codec id behind the estimates (every row records it and its "
                   "fingerprint)")
    p.add_argument("--workers", type=int, default=None, help="worker processes for PESQ/ViSQOL/SDR")
    p.add_argument("--device", default="cpu", help="torch device of the batched kernels and the speaker model")
    p.add_argument("--sim-model", default="resemblyzer", help="resemblyzer or wavlm_ecapa:<checkpoint>")
    p.add_argument("--asr-model", default="pocketsphinx", help="recognizer of the ASR error rates: pocketsphinx "
                   "(offline, in the wheel) or whisper:<folder or Hugging Face repo id in the cache>")
    p.add_argument("--batch-size", type=int, default=16, help="items per batch (bounds memory)")
    p.add_argument("--limit", type=int, default=None, help="score at most this many items")
    p.add_argument("--strict", action="store_true",
                   help="fail when an item has two files (x.flac and x.wav) instead of warning")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_metrics)


def _cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics.compute import compute_metrics

    if args.ref is None and args.manifest is None:
        raise SystemExit("codecbench metrics: pass --ref DIR or --manifest M.jsonl")
    profile = _renamed_flag(args, "--metric-profile", args.metric_profile)
    if profile not in ("paper", "standard"):
        raise SystemExit("codecbench metrics: error: pass --metric-profile paper or --metric-profile standard")
    df = compute_metrics(args.ref, args.est, profile=profile, metrics=args.metrics, out=args.out,
                         workers=args.workers, device=args.device, progress=not args.no_progress,
                         sim_model=args.sim_model, manifest=args.manifest, batch_size=args.batch_size,
                         limit=args.limit, strict=args.strict, codec=args.codec,
                         asr_model=args.asr_model)
    n_bad = int((~df["status"].astype(str).str.startswith("ok")).sum()) if len(df) else 0
    print(f"{len(df)} items ({n_bad} with a failed metric) -> {args.out}")
    return 0


# ---------------------------------------------------------------- probe
def _add_probe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="train and score a probe on a manifest (per-item rows, 95%% intervals)")
    p.add_argument("kind", choices=("asr", "classify"), help="asr (BiLSTM-CTC) or classify (linear probe)")
    p.add_argument("--manifest", required=True, help="manifest JSONL (`codecbench data prepare`)")
    p.add_argument("--features", required=True, help="comma-separated feature sources: codec:<id>, "
                   "tokens:<id>, logmel:original, logmel:<resynthesis dir>, whisper:<model> (e.g. whisper:small), "
                   "ssl:<model>@<layer> (e.g. ssl:wavlm-base-plus@6); ASR compares each with the first")
    p.add_argument("--preset", default="small", help="probe preset in params/probes (small: CPU rankings; "
                   "demo; paper: GPU)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override one preset value, e.g. -p steps=600 or -p select_split=null")
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default: the preset's)")
    p.add_argument("--datasets", default="", help="comma-separated datasets of the manifest (default: every one "
                   "the probe can use)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    p.add_argument("--cache", default=None, help="feature cache folder (default: <out>/cache)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    from .probes.config import preset_seeds
    from .probes.standalone import probe_manifest

    overrides = dict(_key_value(kv, "-p", "KEY=VALUE") for kv in args.param)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] if args.seeds else list(preset_seeds(args.preset))
    run = probe_manifest(args.kind, args.manifest, args.features, args.out, preset=args.preset, overrides=overrides,
                         seeds=seeds, device=args.device, cache_dir=args.cache, progress=not args.no_progress,
                         datasets=[d for d in args.datasets.split(",") if d])
    print(run.describe())
    return 0


# ---------------------------------------------------------------- run / figures
def _parse_overrides(pairs: Sequence[str]) -> dict[str, dict[str, object]]:
    """``stage.name=value`` pairs -> {stage: {name: value}}; values parsed as YAML scalars."""
    out: dict[str, dict[str, object]] = {}
    for pair in pairs:
        key, value = _key_value(pair, "-p", "stage.name=value")
        stage, dot, name = key.partition(".")
        if not dot:
            raise SystemExit(f"codecbench: error: -p expects stage.name=value, got '{pair}'")
        out.setdefault(stage, {})[name] = value
    return out


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="execute the stage notebooks for a codec with papermill")
    p.add_argument("--codec", required=True, help="codec id (see `codecbench codecs list`)")
    p.add_argument("--stages", default="resynthesis,acoustic,asr,classification",
                   help="comma-separated subset of resynthesis,acoustic,asr,classification")
    p.add_argument("--preset", default="demo", help="run preset: params/presets/<preset>.yaml (demo, paper)")
    _old_flag(p)
    p.add_argument("--runs", default="runs", help="where executed notebooks and results go")
    p.add_argument("-p", "--param", action="append", default=[], metavar="STAGE.NAME=VALUE",
                   help="override one notebook parameter, e.g. -p resynthesis.limit=10")
    p.set_defaults(func=_cmd_run)
    f = sub.add_parser("figures", help="regenerate tables and figures (notebook 05)")
    f.add_argument("--preset", default="demo", help="run preset in params/presets (its figures parameters)")
    _old_flag(f)
    f.add_argument("--runs", default="runs", help="runs folder (results of every codec)")
    f.add_argument("--out", default=None, help="where tables and figures go (default: <runs>/figures)")
    f.add_argument("-p", "--param", action="append", default=[], metavar="figures.NAME=VALUE",
                   help="override one notebook 05 parameter")
    f.set_defaults(func=_cmd_figures)
    lb = sub.add_parser("leaderboard", help="a static leaderboard page from the result files (works offline)")
    lb.add_argument("--runs", default="runs", help="runs folder (results of every codec)")
    lb.add_argument("--out", default="site", help="output folder: index.html, assets/, audio/")
    lb.add_argument("--manifest", default=None, help="manifest of the references (default: <runs>/*/manifest.jsonl)")
    lb.add_argument("--sample-metric", default="pesq_wb", help="metric that picks the best and worst samples")
    lb.add_argument("--clip-seconds", type=float, default=5.0, help="length of each listening clip")
    lb.add_argument("--audio-budget-mb", type=float, default=20.0,
                    help="listening clips stop at this size (the page names the codecs left out)")
    lb.add_argument("--metric-profile", default="", choices=("", "paper", "standard"),
                    help="acoustic rows of this metric profile (needed when the runs hold both)")
    lb.set_defaults(func=_cmd_leaderboard)


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_codec

    stages = [s for s in args.stages.split(",") if s]
    runs = run_codec(args.codec, stages=stages, preset=_renamed_flag(args, "--preset", args.preset), runs=args.runs,
                     overrides=_parse_overrides(args.param))
    for r in runs:
        print(f"{r.codec} {r.stage}: {r.state}" + ("" if r.skipped else f" ({r.seconds:.0f} s) -> {r.notebook}"))
    return 0 if all(r.ok for r in runs) and len(runs) == len(stages) else 1


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from .leaderboard import build_leaderboard

    site = build_leaderboard(args.runs, args.out, manifest=args.manifest, sample_metric=args.sample_metric,
                             clip_seconds=args.clip_seconds, metric_profile=args.metric_profile,
                             audio_budget_mb=args.audio_budget_mb)
    print(f"leaderboard: {site.index} ({site.n_codecs} codecs, {site.n_clips} clips, {site.bytes / 2**20:.1f} MB)")
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from .runner import run_figures

    overrides = _parse_overrides(args.param).get("figures", {})
    if args.out:
        overrides["out_dir"] = args.out
    r = run_figures(preset=_renamed_flag(args, "--preset", args.preset), runs=args.runs, overrides=overrides)
    print(f"figures: {r.notebook} ({r.seconds:.0f} s)")
    return 0


# ---------------------------------------------------------------- sweep
def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="many codecs x stages x dataset shards, locally or with Ray")
    p.add_argument("--codecs", required=True, help="comma-separated codec ids")
    p.add_argument("--datasets", default="mini", help="comma-separated prepared datasets (<runs>/<name>/manifest.jsonl)")
    p.add_argument("--stages", default="resynthesis,acoustic,asr,classification", help="comma-separated subset of resynthesis,acoustic,asr,classification")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="local: one task after another; ray: a Ray cluster")
    p.add_argument("--address", default=None, help="Ray cluster address ('auto' joins a running cluster)")
    p.add_argument("--shards", type=int, default=1, help="item-range shards per (codec, dataset) for "
                   "resynthesis and acoustic metrics")
    p.add_argument("--cpus-per-task", type=float, default=1.0, help="Ray CPUs per task")
    p.add_argument("--gpus-per-task", type=float, default=0.0, help="Ray GPUs per task")
    p.add_argument("--max-retries", type=int, default=3, help="Ray retries of a task whose worker died")
    p.add_argument("--runs", default="runs", help="runs folder")
    p.add_argument("--preset", default="demo", help="run preset (params/presets): every stage's parameters")
    p.add_argument("--probe-preset", default=None, help="probe preset (params/probes); default: the run preset's")
    _old_flag(p)
    p.add_argument("--metric-profile", default=None, choices=("paper", "standard"),
                   help="metric profile of the acoustic stage; default: the run preset's")
    p.add_argument("--metrics", default=None, help="comma-separated subset of the metric columns")
    p.add_argument("--device", default="cpu", help="torch device for the stages")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import describe_results, run_sweep

    results = run_sweep(
        [c for c in args.codecs.split(",") if c], [d for d in args.datasets.split(",") if d], runs=args.runs,
        stages=[s for s in args.stages.split(",") if s], n_shards=args.shards, engine=args.engine,
        address=args.address, cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task,
        max_retries=args.max_retries, preset=args.preset, metric_profile=args.metric_profile,
        probe_preset=_renamed_flag(args, "--probe-preset", args.probe_preset),
        metrics=args.metrics.split(",") if args.metrics else None, device=args.device,
    )
    print(describe_results(results))
    return 0 if all(r.ok for r in results) else 1


# ---------------------------------------------------------------- main
class _Parser(argparse.ArgumentParser):
    """Every (sub)command's help shows each option's default."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="codecbench", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log lines (-vv: debug); show the traceback of an unexpected error")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_data, _add_codecs, _add_resynth, _add_metrics, _add_probe, _add_run, _add_sweep):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.quiet else (logging.DEBUG if args.verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from tqdm.contrib.logging import logging_redirect_tqdm

    from .errors import CodecBenchError, first_line

    with logging_redirect_tqdm():
        try:
            return int(args.func(args) or 0)
        except CodecBenchError as exc:  # anticipated: one line that says what to do; -v adds the traceback
            if args.verbose:
                raise
            print(f"codecbench: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("codecbench: interrupted; finished work is kept (rerun the same command to resume)",
                  file=sys.stderr)
            return 130
        except Exception as exc:  # one line, unless -v asks for the traceback
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                print(f"codecbench: error: disk full ({exc}); finished work is kept: free some space and rerun "
                      "to resume", file=sys.stderr)
                return 2
            if args.verbose:
                raise
            print(f"codecbench: error: {type(exc).__name__}: {first_line(exc)} (rerun with -v for the traceback)",
                  file=sys.stderr)
            return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
