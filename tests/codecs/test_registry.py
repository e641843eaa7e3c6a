"""Neural codec specs against the paper's Table 3, and the `codecs list` contract."""

from __future__ import annotations

import json
import math

import pytest

from codecbench_utils.codecs.registry import BACKENDS, codec_class, codec_specs, list_codecs

#: Table 3 of the paper: id -> (sample rate, n_q, kbps as printed)
TABLE3 = {
    "dac_24k_nq8": (24000, 8, 6.0),
    "dac_24k_nq32": (24000, 32, 24.0),
    "dac_44k_nq9": (44100, 9, 7.74),
    "maskgct_nq8": (24000, 8, 4.0),
    "maskgct_nq12": (24000, 12, 6.0),
    "bigcodec": (16000, 1, 1.04),
    "mimi_nq8": (24000, 8, 1.1),
    "mimi_nq32": (24000, 32, 4.4),
    "stablecodec_nq1": (16000, 1, 0.4),
    "stablecodec_nq4": (16000, 4, 1.0),
    "xcodec2": (16000, 1, 0.8),
    "flowdec_nq8": (48000, 8, 6.0),
    "flowdec_nq10": (48000, 10, 7.5),
    "baichuan_nq8": (16000, 8, 1.075),
}
#: kbps is computed exactly; the paper rounds (7.75 -> 7.74) or names FSQ presets by nominal rate (0.39 -> 0.4)
PAPER_ROUNDING_KBPS = 0.05
#: float formatting of YAML values
RTOL = 1e-9

EXTRA_KBPS = {"encodec_24k_nq2": 1.5, "encodec_24k_nq4": 3.0, "encodec_24k_nq8": 6.0, "encodec_24k_nq16": 12.0,
              "encodec_24k_nq32": 24.0, "xcodec_hubert_nq8": 4.0, "wavtokenizer_40hz": 0.48,
              "neucodec": 0.8}


#: the 2026 adapters (#18): transformers classes, pip packages, an encode-only tokenizer
ZOO_2026 = ("neucodec", "higgs_audio_v2_nq8", "vibevoice_acoustic", "pockettts", "snac_24khz", "snac_32khz",
            "snac_44khz", "speechtokenizer_nq8", "speechtokenizer_nq1", "hubert_base_l6_km500")


@pytest.fixture(scope="module")
def specs():
    return codec_specs()


def _bits_per_frame(spec) -> float:
    sizes = spec.options.get("codebook_sizes") or [spec.codebook_size] * spec.n_q
    assert len(sizes) == spec.n_q
    return sum(math.log2(s) for s in sizes)


@pytest.mark.parametrize("codec_id", sorted(TABLE3))
def test_paper_configs_match_table3(specs, codec_id):
    sr, n_q, paper_kbps = TABLE3[codec_id]
    spec = specs[codec_id]
    assert spec.paper and spec.sample_rate == sr and spec.n_q == n_q
    assert spec.kbps == pytest.approx(_bits_per_frame(spec) * spec.frame_rate / 1000, rel=RTOL)
    assert (spec.paper_kbps if spec.paper_kbps is not None else spec.kbps) == pytest.approx(paper_kbps, rel=RTOL)
    assert abs(spec.kbps - paper_kbps) <= PAPER_ROUNDING_KBPS
    if spec.paper_kbps is not None:
        assert spec.paper_kbps != pytest.approx(spec.kbps, rel=RTOL), "paper_kbps only where they differ"


def test_dac_44k_rate():
    spec = codec_specs()["dac_44k_nq9"]
    assert spec.frame_rate == pytest.approx(44100 / 512)
    assert spec.kbps == pytest.approx(7.751953125) and spec.paper_kbps == 7.74


@pytest.mark.parametrize("codec_id", sorted(EXTRA_KBPS))
def test_extra_configs(specs, codec_id):
    spec = specs[codec_id]
    assert not spec.paper
    assert spec.kbps == pytest.approx(EXTRA_KBPS[codec_id], rel=RTOL)
    assert spec.kbps == pytest.approx(_bits_per_frame(spec) * spec.frame_rate / 1000, rel=RTOL)


def test_every_neural_spec_has_a_backend_and_documents_embed(specs):
    for spec in specs.values():
        if spec.family in ("classical", "anchor"):
            continue
        assert spec.backend in BACKENDS, spec.id
        assert codec_class(spec) is not None
        assert "embed" in spec.description, f"{spec.id}: say what embed returns"
        assert spec.frame_rate, spec.id
        if getattr(codec_class(spec), "CONTINUOUS", False):  # latents, not codes: no bitrate to claim
            assert spec.n_q is None and spec.codebook_size is None and spec.kbps is None, spec.id
        else:
            assert spec.n_q and spec.kbps and (spec.codebook_size or spec.options.get("codebook_sizes")), spec.id


def test_list_codecs_reports_neural_codecs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    for var in ("CODECBENCH_BIGCODEC_DIR", "CODECBENCH_AMPHION_DIR", "CODECBENCH_MASKGCT_DIR",
                "CODECBENCH_FLOWDEC_DIR", "CODECBENCH_FLOWDEC_CKPT", "CODECBENCH_BAICHUAN_DIR",
                "CODECBENCH_BAICHUAN_CKPT"):
        monkeypatch.delenv(var, raising=False)
    rows = {r["id"]: r for r in list_codecs()}
    json.dumps(list(rows.values()))  # the --json output must serialize
    for codec_id in [*TABLE3, *EXTRA_KBPS, *ZOO_2026]:
        row = rows[codec_id]
        for key in ("id", "family", "backend", "sample_rate", "n_q", "kbps", "frame_rate", "embedding_dim",
                    "output_sample_rate", "round_trip", "available", "reason"):
            assert key in row
        assert row["available"] is False and row["reason"], codec_id
        assert "Error:" not in row["reason"], f"{codec_id}: backend import failed: {row['reason']}"


def test_every_reason_a_codec_cannot_run_names_a_fix_that_works_here(tmp_path, monkeypatch):
    """No advice to run a command this install lacks (huggingface-cli) or a flag no command takes (--weights)."""
    import re

    from codecbench_utils.codecs.registry import list_codecs

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for var in ("CODECBENCH_LYRA_DIR", "CODECBENCH_BIGCODEC_DIR", "CODECBENCH_AMPHION_DIR"):
        monkeypatch.delenv(var, raising=False)
    fixes = re.compile(r"codecbench codecs fetch \S+|pip install|export it|options\.\w+|\$CODECBENCH_\w+")
    for row in list_codecs():
        if row["reason"]:
            assert "huggingface-cli" not in row["reason"] and "--weights" not in row["reason"], row
            assert fixes.search(row["reason"]), row
