"""Lyra v2 on its real TFLite models and real recordings (skipped when the model files are absent).

The model files come from ``$CODECBENCH_LYRA_DIR`` or the shared folder beside the checkout
(``../shared/models/lyra_v2``); the recordings from ``../shared/real_audio``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.codecs import lyra
from codecbench_utils.codecs.registry import get_spec, list_codecs, load_codec
from codecbench_utils.errors import InvalidAudioError, MissingWeightsError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REAL_SPEECH = SHARED / "real_audio" / "speech"


def _weights_dir() -> Path | None:
    env = os.environ.get("CODECBENCH_LYRA_DIR")
    for folder in ([Path(env)] if env else []) + [SHARED / "models" / "lyra_v2"]:
        if all((folder / f.name).is_file() for f in lyra.LYRA_FILES):
            return folder
    return None


WEIGHTS = _weights_dir()
needs_weights = pytest.mark.skipif(WEIGHTS is None, reason="Lyra v2 model files not found "
                                   "($CODECBENCH_LYRA_DIR or ../shared/models/lyra_v2)")
needs_speech = pytest.mark.skipif(not REAL_SPEECH.is_dir(), reason="no real speech (../shared/real_audio/speech)")


@pytest.fixture(scope="module")
def codecs():
    if WEIGHTS is None:
        pytest.skip("Lyra v2 model files not found")
    return {cid: load_codec(cid, weights=WEIGHTS) for cid in ("lyra_v2_3k2", "lyra_v2_6k", "lyra_v2_9k2")}


def _speech() -> list[np.ndarray]:
    return [sf.read(p, dtype="float32")[0] for p in sorted(REAL_SPEECH.glob("*.flac"))]


def _lag(est: np.ndarray, ref: np.ndarray, max_lag: int = 1600) -> int:
    """Lag (samples) of the cross-correlation peak of est against ref; positive: est is late."""
    n = len(ref)
    spec = np.fft.rfft(est, 2 * n) * np.conj(np.fft.rfft(ref, 2 * n))
    cc = np.fft.irfft(spec, 2 * n)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    values = np.r_[cc[: max_lag + 1], cc[-max_lag:]]
    return int(lags[np.argmax(values)])


# ------------------------------------------------------------------ without the model files
def test_missing_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    reason = lyra.LyraCodec.available(get_spec("lyra_v2_6k"))
    assert reason is not None and "codecbench codecs fetch lyra_v2_6k" in reason
    with pytest.raises(MissingWeightsError, match="codecbench codecs fetch lyra_v2_6k"):
        load_codec("lyra_v2_6k")


def test_lookup_order_yaml_then_env_then_cache(tmp_path, monkeypatch):
    spec = get_spec("lyra_v2_6k")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    assert lyra.lyra_weights_dir(spec)[0] == tmp_path / "xdg" / "codecbench" / "lyra_v2" / lyra.LYRA_COMMIT
    monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(tmp_path / "env"))
    assert lyra.lyra_weights_dir(spec)[0] == tmp_path / "env"
    yaml_spec = type(spec).from_dict({**spec.to_dict(), "options": {"weights": str(tmp_path / "yaml")}})
    assert lyra.lyra_weights_dir(yaml_spec)[0] == tmp_path / "yaml"


def test_a_tampered_model_file_is_refused(tmp_path):
    if WEIGHTS is None:
        pytest.skip("Lyra v2 model files not found")
    for f in lyra.LYRA_FILES:
        (tmp_path / f.name).write_bytes((WEIGHTS / f.name).read_bytes())
    data = bytearray((tmp_path / "lyragan.tflite").read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    (tmp_path / "lyragan.tflite").write_bytes(bytes(data))
    with pytest.raises(MissingWeightsError, match="lyragan.tflite \\(sha256 mismatch\\)"):
        load_codec("lyra_v2_6k", weights=tmp_path)


def test_three_configurations_with_the_bitrates_their_codebooks_give():
    specs = {cid: get_spec(cid) for cid in ("lyra_v2_3k2", "lyra_v2_6k", "lyra_v2_9k2")}
    for spec, n_q in zip(specs.values(), (16, 30, 46)):
        assert spec.n_q == n_q and spec.codebook_size == 16 and spec.frame_rate == 50
        assert spec.kbps == pytest.approx(n_q * math.log2(spec.codebook_size) * spec.frame_rate / 1000)
        assert spec.embedding_dim == 64 and spec.sample_rate == 16000


# ------------------------------------------------------------------ on the real model
@needs_weights
def test_listed_as_available_with_weights(monkeypatch):
    monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(WEIGHTS))
    rows = {r["id"]: r for r in list_codecs()}
    assert all(rows[c]["available"] for c in ("lyra_v2_3k2", "lyra_v2_6k", "lyra_v2_9k2"))


@needs_weights
@needs_speech
def test_pesq_wb_rises_with_bitrate_on_real_speech(codecs):
    from pesq import pesq

    speech = _speech()
    means = {}
    for cid, codec in codecs.items():
        means[cid] = np.mean([pesq(16000, x, codec.resynthesize(x).wav, "wb") for x in speech])
    assert means["lyra_v2_3k2"] < means["lyra_v2_6k"] < means["lyra_v2_9k2"], means
    assert 2.0 < means["lyra_v2_3k2"] and means["lyra_v2_9k2"] < 4.5, means


@needs_weights
@needs_speech
def test_output_is_as_long_as_and_aligned_with_the_input(codecs):
    for x in _speech():
        for codec in codecs.values():
            y = codec.resynthesize(x).wav
            assert y.shape == x.shape
            assert abs(_lag(y, x)) <= 1


@needs_weights
@needs_speech
def test_codes_embeddings_and_bitrate(codecs):
    x = _speech()[-1]
    frames = math.ceil(len(x) / 320)
    for codec, n_q in zip(codecs.values(), (16, 30, 46)):
        enc = codec.encode(x)
        assert enc.codes.shape == (n_q, frames)
        assert enc.codes.min() >= 0 and enc.codes.max() < 16
        assert enc.bitrate_kbps == pytest.approx(n_q * 4 * frames / (len(x) / 16000) / 1000)
        emb = codec.embed(x)
        assert emb.shape == (frames, 64) and emb.dtype == np.float32 and np.all(np.isfinite(emb))
    # finer quantization moves the latent toward the same target: 46 quantizers differ from 30 less than 16 do
    e16, e30, e46 = (c.embed(x) for c in codecs.values())
    assert np.linalg.norm(e46 - e30) < np.linalg.norm(e46 - e16)


@needs_weights
@needs_speech
def test_deterministic_and_nothing_leaks_between_items(codecs):
    a, b = _speech()[-2:]
    codec = codecs["lyra_v2_6k"]
    alone = load_codec("lyra_v2_6k", weights=WEIGHTS).resynthesize(b).wav
    codec.resynthesize(a)  # whatever came before must not change b's output
    after = codec.resynthesize(b).wav
    np.testing.assert_array_equal(after, alone)
    np.testing.assert_array_equal(codec.embed(b), codec.embed(b))


@needs_weights
@needs_speech
def test_parallel_batch_equals_items_one_by_one(codecs):
    codec = load_codec("lyra_v2_3k2", weights=WEIGHTS, workers=2)
    speech = _speech()[:5]
    batch = codec.resynthesize_batch(speech)
    for x, res in zip(speech, batch):
        np.testing.assert_array_equal(res.wav, codec.resynthesize(x).wav)


@needs_weights
def test_edge_inputs(codecs):
    codec = codecs["lyra_v2_3k2"]
    silence = codec.resynthesize(np.zeros(16000, np.float32)).wav
    assert silence.shape == (16000,) and np.all(np.isfinite(silence)) and np.max(np.abs(silence)) < 0.1
    one = codec.resynthesize(np.array([0.5], np.float32))
    assert one.wav.shape == (1,)
    assert codec.encode(np.array([0.5], np.float32)).codes.shape == (16, 1)
    with pytest.raises(InvalidAudioError, match="empty"):
        codec.encode(np.zeros(0, np.float32))
    with pytest.raises(InvalidAudioError, match="mono"):
        codec.encode(np.zeros((100, 2), np.float32))


@needs_weights
def test_resynthesis_stage_on_awkward_files(tmp_path, monkeypatch, signal, rng):
    """48 kHz stereo, a 1-sample clip, silence and a 10-minute clip through the driver; an empty file fails alone."""
    from codecbench_utils.codecs.resynth import read_index, resynthesize
    from codecbench_utils.data.manifest import ManifestItem, write_manifest

    monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(WEIGHTS))
    x48 = signal(rng, 48000, 1.5)
    files = {
        "stereo48k": (np.stack([x48, 0.5 * x48], axis=1), 48000),
        "one_sample": (np.array([0.25], np.float32), 16000),
        "silence": (np.zeros(8000, np.float32), 16000),
        "ten_minutes": (np.tile(signal(rng, 16000, 2.0), 300), 16000),
        "empty": (np.zeros(0, np.float32), 16000),
    }
    items = []
    for name, (wav, sr) in files.items():
        sf.write(tmp_path / f"{name}.wav", wav, sr)
        items.append(ManifestItem(name, "t", "speech", f"{name}.wav", len(wav) / sr, sr))
    write_manifest(items, tmp_path / "m.jsonl")
    summary = resynthesize("lyra_v2_3k2", tmp_path / "m.jsonl", tmp_path / "out", progress=False)
    index = read_index(tmp_path / "out")
    assert {i: r.status for i, r in index.items()} == {"stereo48k": "ok", "one_sample": "ok", "silence": "ok",
                                                        "ten_minutes": "ok", "empty": "failed"}
    assert "0 samples" in index["empty"].reason
    assert summary.n_done == 4
    for name in ("stereo48k", "one_sample", "silence", "ten_minutes"):
        out, sr = sf.read(tmp_path / "out" / f"{name}.flac")
        assert sr == 16000
        assert len(out) == round(files[name][0].shape[0] * 16000 / files[name][1])
    lines = (tmp_path / "out" / "index.jsonl").read_text().splitlines()
    assert all(json.loads(line)["codec"] == "lyra_v2_3k2" for line in lines)


@needs_weights
@needs_speech
def test_probe_features_and_token_statistics(tmp_path, monkeypatch):
    from codecbench_utils.codecs.stats import token_stats
    from codecbench_utils.data.manifest import ManifestItem
    from codecbench_utils.probes.features import make_extractor

    monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(WEIGHTS))
    path = sorted(REAL_SPEECH.glob("*.flac"))[-1]
    x = sf.read(path, dtype="float32")[0]
    item = ManifestItem("s", "t", "speech", str(path), len(x) / 16000, 16000)
    extractor = make_extractor("codec:lyra_v2_6k")
    feats = extractor(item)
    assert feats.shape == (math.ceil(len(x) / 320), 64)
    codes = load_codec("lyra_v2_6k").encode(x).codes
    stats = token_stats(codes, codebook_size=16)
    assert 0 < float(np.mean(stats["entropy_bits"])) <= 4.0
