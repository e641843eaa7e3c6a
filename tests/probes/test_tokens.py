"""The token-based probe (paper §4.3.3): codes cached as (frames, n_q), a learned embedding per codebook."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import ConfigError
from codecbench_utils.probes import tokens
from codecbench_utils.probes.features import make_extractor, parse_feature_source

torch = pytest.importorskip("torch")
LYRA = Path(__file__).resolve().parents[3] / "shared" / "models" / "lyra_v2"


def test_embedding_sums_one_table_per_codebook_and_hashes_huge_ones():
    front = tokens.token_front([16, 65536], dim=4)
    assert front.rows == [16, tokens.MAX_ROWS] and front.out_dim == 4
    x = torch.tensor([[[3.0, 5.0], [3.0, 5.0 + tokens.MAX_ROWS]]])
    out = front(x)
    expected = front.tables[0].weight[3] + front.tables[1].weight[5]
    torch.testing.assert_close(out[0, 0], expected)
    torch.testing.assert_close(out[0, 1], expected)  # hashed: index modulo MAX_ROWS shares a row
    assert sum(p.numel() for p in front.parameters()) == (16 + tokens.MAX_ROWS) * 4  # bounded


def test_sources_parse_and_need_discrete_codes():
    s = parse_feature_source("tokens:lyra_v2_6k")
    assert (s.kind, s.codec_id, s.name, s.label) == ("tokens", "lyra_v2_6k", "tokens:lyra_v2_6k", "codec_tokens")
    assert parse_feature_source("tokens:xcodec2").label == "codec_tokens_hashed"  # one 65536-entry codebook
    assert tokens.token_vocab("tokens:lyra_v2_6k") == [16] * 30
    with pytest.raises(ConfigError, match="no discrete codes"):
        tokens.token_vocab("tokens:opus_6k")


def _tones(folder: Path, sr: int, n: int = 20) -> list[ManifestItem]:
    items = []
    for i in range(n):
        f0 = 300 if i % 2 else 1200
        t = np.arange(int(0.6 * sr)) / sr
        sf.write(folder / f"t{i}.wav", (0.4 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), sr)
        items.append(ManifestItem(f"t{i}", "tones", "sound", f"t{i}.wav", 0.6, sr, label=f"f{f0}",
                                  extra={"fold": i % 5 + 1}))
    write_manifest(items, folder / "m.jsonl")
    return items


def test_token_probe_learns_from_codes_of_a_tiny_codec(tiny_dac_codec, tmp_path, monkeypatch):
    from codecbench_utils.codecs import registry
    from codecbench_utils.probes.cache import extract_features
    from codecbench_utils.probes.classification import cross_validate
    from codecbench_utils.probes.config import load_probe_profile

    codec = tiny_dac_codec
    monkeypatch.setattr(registry, "get_spec", lambda cid, directory=None: codec.spec)
    items = _tones(tmp_path, codec.sample_rate)
    ex = make_extractor(f"tokens:{codec.id}", manifest_dir=tmp_path, codec=codec)
    fs = extract_features(ex, items, tmp_path / "cache", progress=False)
    codes = fs.get("t0")
    assert codes.shape[1] == codec.spec.n_q and np.array_equal(codes, codes.round())
    assert np.array_equal(codes.T.astype(np.int64), codec.encode(
        sf.read(tmp_path / "t0.wav", dtype="float32")[0]).codes)
    cfg = load_probe_profile("small", "classification", epochs=30, lr=1e-2)
    rows = cross_validate(fs, items, cfg, codec=codec.id, dataset="tones", seeds=[0], device="cpu", progress=False)
    assert {r.feature for r in rows} == {"codec_tokens"}
    assert np.mean([r.accuracy for r in rows]) > 0.8  # two tones give different codes: the embedding learns it


@pytest.fixture
def tiny_dac_codec(tiny_builders):
    torch.manual_seed(0)
    cls, spec, model, _ = tiny_builders["dac"]()
    return cls.from_model(dataclasses.replace(spec, codebook_size=16, frame_rate=100.0), model)


@pytest.mark.skipif(not (LYRA.is_dir() or os.environ.get("CODECBENCH_LYRA_DIR")),
                    reason="Lyra v2 weights not present (../shared/models/lyra_v2 or $CODECBENCH_LYRA_DIR)")
def test_lyra_tokens_and_the_asr_probe_front(tmp_path, monkeypatch):
    from codecbench_utils.probes.asr import build_ctc_probe
    from codecbench_utils.probes.config import load_probe_profile

    if not os.environ.get("CODECBENCH_LYRA_DIR"):
        monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(LYRA))
    items = _tones(tmp_path, 16000, n=2)
    ex = make_extractor("tokens:lyra_v2_3k2", manifest_dir=tmp_path)
    codes = ex(items[0])
    assert codes.shape == (30, 16) and codes.min() >= 0 and codes.max() < 16  # 0.6 s at 50 Hz, 16 quantizers
    model = build_ctc_probe(16, load_probe_profile("small", "asr"), vocab=tokens.token_vocab("tokens:lyra_v2_3k2"))
    out = model(torch.from_numpy(codes)[None], torch.tensor([30]))
    assert out.shape[:2] == (1, 30) and torch.isfinite(out).all()


def test_multi_rate_codes_reach_the_token_probe_at_the_finest_rate(tmp_path, monkeypatch):
    """SNAC's three codebooks (strides 4, 2, 1) arrive as one (finest frames, 3) matrix, and the probe learns."""
    snac = pytest.importorskip("snac", reason="the optional extra codecbench[snac] is not installed")
    from codecbench_utils.codecs import registry
    from codecbench_utils.codecs.base import CodecSpec
    from codecbench_utils.codecs.snac import SnacCodec
    from codecbench_utils.probes.cache import extract_features
    from codecbench_utils.probes.classification import cross_validate
    from codecbench_utils.probes.config import load_probe_profile

    torch.manual_seed(0)
    model = snac.SNAC(sampling_rate=8000, encoder_dim=4, encoder_rates=[4, 8], decoder_dim=16, decoder_rates=[8, 4],
                      attn_window_size=None, codebook_size=16, codebook_dim=4, vq_strides=[4, 2, 1])
    spec = CodecSpec(id="tiny_snac", family="snac", backend="snac", sample_rate=8000, n_q=3, codebook_size=16,
                     frame_rate=250.0, embedding_dim=16, options={"vq_strides": [4, 2, 1]})
    codec = SnacCodec.from_model(spec, model)
    monkeypatch.setattr(registry, "get_spec", lambda cid, directory=None: codec.spec)
    items = _tones(tmp_path, 8000)
    fs = extract_features(make_extractor("tokens:tiny_snac", manifest_dir=tmp_path, codec=codec), items,
                          tmp_path / "cache", progress=False)
    codes = fs.get("t0")
    enc = codec.encode(sf.read(tmp_path / "t0.wav", dtype="float32")[0])
    assert codes.shape == (150, 3)  # 0.6 s at the finest 250 Hz
    np.testing.assert_array_equal(codes.T.astype(np.int64), codec.codes_matrix(enc))
    np.testing.assert_array_equal(codes[:4, 0], np.repeat(enc.codes[0][0], 4))  # the coarse code held 4 frames
    cfg = load_probe_profile("small", "classification", epochs=30, lr=1e-2)
    rows = cross_validate(fs, items, cfg, codec=codec.id, dataset="tones", seeds=[0], device="cpu", progress=False)
    assert np.mean([r.accuracy for r in rows]) > 0.8
