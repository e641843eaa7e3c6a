"""Transformers-backed codecs on tiny random configs (CPU, no weights, real model code)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codecbench_utils.codecs import hf
from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.registry import codec_class, get_spec
from codecbench_utils.errors import CodecRuntimeError, MissingWeightsError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def test_encode_decode_embed_shapes(tiny, rng):
    codec, dim = tiny
    hop = codec.hop_length
    n = 11 * hop + 5  # not a whole number of frames
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    enc = codec.encode(wav)
    frames = codec.frames_for(n)
    if codec.CONTINUOUS:  # float latents (dim, frames) and no bitrate
        assert enc.codes.shape == (dim, frames) and enc.codes.dtype == np.float32 and enc.n_bits is None
    else:
        n_q = len(codec.codebook_sizes)
        assert enc.codes.shape == (n_q, frames) and enc.codes.dtype == np.int64
        assert enc.codes.min() >= 0 and enc.codes.max() < max(codec.codebook_sizes)
        assert enc.n_bits == round(frames * sum(math.log2(s) for s in codec.codebook_sizes))
    assert enc.n_samples == n and enc.sample_rate == codec.sample_rate
    # frame rate: one frame per hop (X-codec-2 adds one padding frame, as upstream; NeuCodec drops the partial one)
    assert abs(frames - n / hop) <= 1.0
    out = codec.decode(enc)
    n_out = codec.output_length(n)  # NeuCodec: the same duration at 24 kHz
    assert n_out == (n if codec.output_sample_rate == codec.sample_rate else round(n * 1.5))
    assert out.shape == (n_out,) and out.dtype == np.float32 and np.all(np.isfinite(out))
    emb = codec.embed(wav)
    assert emb.shape == (frames, dim) and emb.dtype == np.float32
    res = codec.resynthesize(wav)
    assert res.wav.shape == (n_out,) and res.sample_rate == codec.output_sample_rate
    if codec.CONTINUOUS:
        assert res.bitrate_kbps is None
    else:
        assert res.bitrate_kbps == pytest.approx(enc.n_bits / (n / codec.sample_rate) / 1000)


def test_deterministic_and_batched(tiny, rng):
    codec, _ = tiny
    hop = codec.hop_length
    a = (0.1 * rng.standard_normal(8 * hop)).astype(np.float32)
    b = (0.1 * rng.standard_normal(5 * hop + 3)).astype(np.float32)
    ea, eb = codec.encode(a), codec.encode(b)
    np.testing.assert_array_equal(ea.codes, codec.encode(a).codes)
    batch = codec.encode_batch([a, b])
    assert [e.codes.shape for e in batch] == [ea.codes.shape, eb.codes.shape]
    # the longest item of a batch sees no padding: identical codes (latents: equal to float rounding)
    if codec.CONTINUOUS:
        np.testing.assert_allclose(batch[0].codes, ea.codes, rtol=1e-4, atol=1e-4 * np.abs(ea.codes).max())
    else:
        np.testing.assert_array_equal(batch[0].codes, ea.codes)
    outs = codec.decode_batch(batch)
    want = [(codec.output_length(a.size),), (codec.output_length(b.size),)]
    assert [o.shape for o in outs] == want
    embs = codec.embed_batch([a, b])
    assert embs[1].shape[0] == eb.codes.shape[1]
    res = codec.resynthesize_batch([a, b])
    assert [r.wav.shape for r in res] == want


def test_long_files_are_chunked(tiny, rng):
    codec, _ = tiny
    hop = codec.hop_length
    n = 13 * hop + 7
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    old = codec.chunk_seconds
    try:
        codec.chunk_seconds = 4 * hop / codec.sample_rate  # 4 frames a chunk -> 4 chunks
        # ... unless the 1-frame tail is too short for the networks (NeuCodec): it joins the third chunk
        assert len(codec._segments(wav)) == (4 if codec.MIN_FRAMES <= 1 else 3)
        enc = codec.encode(wav)
        assert enc.codes.shape[1] == codec.frames_for(n)
        assert codec.decode(enc).shape == (codec.output_length(n),)
        assert codec.embed(wav).shape[0] == codec.frames_for(n)
    finally:
        codec.chunk_seconds = old


def test_dac_embedding_is_quantized_representation(tiny_builders, rng):
    torch.manual_seed(0)
    cls, spec, model, _ = tiny_builders["dac"]()
    codec = cls.from_model(spec, model)
    wav = (0.1 * rng.standard_normal(16 * 10)).astype(np.float32)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(wav)[None, None], n_quantizers=2).quantized_representation
    np.testing.assert_allclose(codec.embed(wav), z[0].T.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_n_q_is_rejected(tiny_builders):
    cls, spec, model, _ = tiny_builders["encodec"]()
    with pytest.raises(CodecRuntimeError, match="matches none"):
        cls.from_model(CodecSpec(**{**spec.to_dict(), "n_q": 5}), model)
    cls, spec, model, _ = tiny_builders["dac"]()
    with pytest.raises(CodecRuntimeError, match="n_q must be in 1..3"):
        cls.from_model(CodecSpec(**{**spec.to_dict(), "n_q": 4}), model)


def test_sample_rate_mismatch(tiny_builders):
    cls, spec, model, _ = tiny_builders["dac"]()
    with pytest.raises(CodecRuntimeError, match="sample_rate"):
        cls.from_model(CodecSpec(**{**spec.to_dict(), "sample_rate": 16000}), model)


def test_missing_weights_error_names_codec_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = get_spec("dac_24k_nq8")
    with pytest.raises(MissingWeightsError, match="dac_24k_nq8.*descript/dac_24khz.*`codecbench codecs fetch dac_24k_nq8`"):
        hf.resolve_weights(spec)
    with pytest.raises(MissingWeightsError, match=f"dac_24k_nq8.*{tmp_path / 'nowhere'}.*config.json"):
        codec_class(spec)(spec, weights=tmp_path / "nowhere")
    reason = codec_class(spec).available(spec)
    assert reason is not None and "not in the Hugging Face cache" in reason


def test_local_weights_folder_loads(tiny_builders, tmp_path, rng):
    torch.manual_seed(0)
    cls, spec, model, _ = tiny_builders["dac"]()
    model.save_pretrained(tmp_path / "ckpt")
    loaded = cls(spec, weights=tmp_path / "ckpt")
    wav = (0.1 * rng.standard_normal(160)).astype(np.float32)
    np.testing.assert_array_equal(loaded.encode(wav).codes, cls.from_model(spec, model).encode(wav).codes)
    spec_opt = CodecSpec(**{**spec.to_dict(), "options": {"weights": str(tmp_path / "ckpt")}})
    assert cls.available(spec_opt) is None


@pytest.mark.gpu
def test_gpu_bf16_matches_shapes(tiny_builders, rng):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    cls, spec, model, dim = tiny_builders["dac"]()
    spec = CodecSpec(**{**spec.to_dict(), "options": {"dtype": "bfloat16"}})
    codec = cls.from_model(spec, model, device="cuda")
    wav = (0.1 * rng.standard_normal(16 * 20)).astype(np.float32)
    assert codec.encode(wav).codes.shape == (2, 20)
    assert codec.decode(codec.encode(wav)).shape == wav.shape
    assert codec.embed(wav).shape == (20, dim)
