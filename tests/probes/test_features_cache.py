"""Feature sources (log-mel, codec embeddings) and the float16 memory-mapped cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.codecs.base import Codec, CodecSpec, Encoded
from codecbench_utils.data.manifest import ManifestItem
from codecbench_utils.errors import CodecRuntimeError, InvalidAudioError, UnknownNameError
from codecbench_utils.probes.cache import EmbeddingCache, extract_features
from codecbench_utils.probes.features import LogMelConfig, logmel, make_extractor, parse_feature_source

#: float32 STFT/mel products against a float64 NumPy rebuild (log domain, well above the floor).
LOGMEL_ATOL = 1e-3
#: float16 storage keeps ~3 significant digits.
F16_RTOL = 1e-3


def _reference_logmel(wav: np.ndarray, cfg: LogMelConfig) -> np.ndarray:
    """Centred zero-padded frames, periodic Hann, |rfft|^2, Slaney mel filters, natural log."""
    import librosa
    import scipy.signal

    pad = cfg.n_fft // 2
    x = np.pad(wav.astype(np.float64), (pad, pad))
    n_frames = 1 + (len(x) - cfg.n_fft) // cfg.hop_length
    win = scipy.signal.get_window("hann", cfg.n_fft, fftbins=True)
    frames = np.stack([x[i * cfg.hop_length : i * cfg.hop_length + cfg.n_fft] * win for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    fb = librosa.filters.mel(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, dtype=np.float64)
    return np.log(np.maximum(power @ fb.T, cfg.floor))


def test_logmel_matches_numpy_reference(rng):
    cfg = LogMelConfig()
    wav = (0.2 * rng.standard_normal(8000)).astype(np.float32)
    got = logmel(wav, 16000, config=cfg)
    ref = _reference_logmel(wav, cfg)
    assert got.shape == ref.shape == (1 + 8000 // 320, 80)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=LOGMEL_ATOL)


def test_logmel_rejects_wrong_rate_and_nan():
    with pytest.raises(InvalidAudioError, match="resample"):
        logmel(np.zeros(100, np.float32), 8000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        logmel(np.full(1000, np.nan, np.float32), 16000)


def test_parse_feature_source():
    assert parse_feature_source("codec:mimi_nq8").name == "codec:mimi_nq8"
    assert parse_feature_source("logmel:original").label == "logmel_original"
    src = parse_feature_source("logmel:runs/opus/resynth")
    assert (src.kind, src.audio, src.label) == ("logmel", "runs/opus/resynth", "logmel_resynth")
    for bad in ("mfcc:original", "codec:", "logmel"):
        with pytest.raises(UnknownNameError):
            parse_feature_source(bad)


def test_cache_roundtrip_is_float16_memmap_and_survives_reopening(tmp_path, rng):
    cache = EmbeddingCache(tmp_path, "fp", shard_mb=1e-5)  # tiny shards: one flush per item
    arrays = {f"a/{i}": rng.standard_normal((5 + i, 3)).astype(np.float32) for i in range(4)}
    for k, v in arrays.items():
        cache.put(k, "key", v)
    cache.flush()
    again = EmbeddingCache(tmp_path, "fp")
    for k, v in arrays.items():
        got = again.get(k)
        assert isinstance(got.base, np.memmap) or isinstance(got, np.memmap)
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float32), v, rtol=F16_RTOL, atol=1e-3)
        assert again.has(k, "key") and not again.has(k, "other")
    assert len(list((tmp_path / "fp").glob("shard-*.f16"))) >= 2


def test_cache_ignores_torn_index_line_and_orphan_shard(tmp_path, rng):
    cache = EmbeddingCache(tmp_path, "fp")
    cache.put("x", "k", rng.standard_normal((4, 2)))
    cache.flush()
    (tmp_path / "fp" / "shard-00007.f16").write_bytes(b"\0" * 16)  # a shard whose index never landed
    with open(tmp_path / "fp" / "index.jsonl", "a") as fh:
        fh.write('{"id": "y", "key"')  # a run killed mid-line
    again = EmbeddingCache(tmp_path, "fp")
    assert again.has("x") and not again.has("y")
    again.put("z", "k", rng.standard_normal((2, 2)))
    again.flush()
    assert json.loads((tmp_path / "fp" / "index.jsonl").read_text().splitlines()[-1])["shard"] == 8
    assert EmbeddingCache(tmp_path, "fp").get("z").shape == (2, 2)


def test_cache_clips_beyond_float16(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp")
    cache.put("big", "k", np.array([[1e6, -1e6]]))
    cache.flush()
    assert np.all(np.isfinite(EmbeddingCache(tmp_path, "fp").get("big").astype(np.float32)))


def test_extract_features_reuses_cache_and_reextracts_changed_items(tmp_path, tones):
    items, root = tones
    items = items[:4]
    ex = make_extractor("logmel:original", manifest_dir=root)
    first = extract_features(ex, items, tmp_path, progress=False)
    assert (first.n_extracted, first.n_cached, first.ids) == (4, 0, [it.id for it in items])
    second = extract_features(ex, items, tmp_path, progress=False)
    assert (second.n_extracted, second.n_cached) == (0, 4)
    wav, sr = sf.read(root / items[0].path)
    expected = logmel(wav.astype(np.float32), sr)
    np.testing.assert_allclose(second.get(items[0].id).astype(np.float32), expected, rtol=F16_RTOL, atol=2e-2)
    # change one input file: only that item is extracted again
    sf.write(root / items[1].path, wav[: len(wav) // 2], sr)
    third = extract_features(ex, items, tmp_path, progress=False)
    assert (third.n_extracted, third.n_cached) == (1, 3)
    assert third.get(items[1].id).shape[0] == 1 + (len(wav) // 2) // 320


def test_extract_features_records_failures_without_filling(tmp_path, tones):
    items, root = tones
    bad = ManifestItem(id="missing", dataset="tones", category="sound", path="nope.wav", duration=1.0,
                       sample_rate=16000, label="low", fold=1)
    fs = extract_features(make_extractor("logmel:original", manifest_dir=root), [items[0], bad], tmp_path,
                          progress=False)
    assert fs.ids == [items[0].id]
    assert "missing" in fs.failed and "nope.wav" in fs.failed["missing"]
    with pytest.raises(KeyError):
        fs.get("missing")


class _EmbeddingCodec(Codec):
    """A codec whose 'embedding' is the frame-wise RMS and peak at 25 frames/s (640 samples)."""

    def encode(self, wav):
        return Encoded(codes=wav, n_samples=len(wav), sample_rate=self.sample_rate)

    def decode(self, encoded):
        return encoded.codes

    def embed(self, wav):
        frames = wav[: len(wav) // 640 * 640].reshape(-1, 640)
        return np.stack([np.sqrt((frames**2).mean(1)), np.abs(frames).max(1)], axis=1)


def test_codec_embedding_source(tmp_path, tones):
    items, root = tones
    spec = CodecSpec(id="toy", family="test", backend="identity", sample_rate=16000, frame_rate=25.0,
                     embedding_dim=2)
    ex = make_extractor("codec:toy", manifest_dir=root, codec=_EmbeddingCodec(spec))
    assert (ex.frame_rate, ex.dim) == (25.0, 2)
    fs = extract_features(ex, items[:3], tmp_path, progress=False)
    wav, _ = sf.read(root / items[0].path, dtype="float32")
    np.testing.assert_allclose(fs.get(items[0].id).astype(np.float32), _EmbeddingCodec(spec).embed(wav),
                               rtol=F16_RTOL, atol=1e-4)
    no_embed = CodecSpec(id="plain", family="test", backend="identity", sample_rate=16000, frame_rate=50.0)
    from codecbench_utils.codecs.identity import IdentityCodec

    with pytest.raises(CodecRuntimeError, match="no continuous embeddings"):
        make_extractor("codec:plain", codec=IdentityCodec(no_embed))
