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


def _spec(backend: str, sr: int, n_q: int, **options) -> CodecSpec:
    return CodecSpec(id=f"tiny_{backend}", family="test", backend=backend, sample_rate=sr, n_q=n_q,
                     options=options)


def _tiny_dac():
    cfg = transformers.DacConfig(encoder_hidden_size=4, downsampling_ratios=[2, 4], decoder_hidden_size=16,
                                 n_codebooks=3, codebook_size=16, codebook_dim=4, sampling_rate=800)
    return hf.DacCodec, _spec("hf_dac", 800, 2), transformers.DacModel(cfg), 16


def _tiny_encodec():
    # 100 Hz x 4 bits = 0.4 kbps a codebook: 0.8 kbps selects 2 codebooks
    cfg = transformers.EncodecConfig(hidden_size=8, num_filters=2, upsampling_ratios=[2, 4], num_lstm_layers=1,
                                     codebook_size=16, target_bandwidths=[0.4, 0.8, 1.2], sampling_rate=800)
    return hf.EncodecCodec, _spec("hf_encodec", 800, 2), transformers.EncodecModel(cfg), 8


def _tiny_mimi():
    cfg = transformers.MimiConfig(hidden_size=16, num_filters=2, upsampling_ratios=[2, 4], codebook_size=16,
                                  codebook_dim=8, num_quantizers=4, vector_quantization_hidden_dimension=8,
                                  upsample_groups=16, num_hidden_layers=1, intermediate_size=16,
                                  num_attention_heads=2, num_key_value_heads=2, sampling_rate=800,
                                  sliding_window=10, max_position_embeddings=200)
    return hf.MimiCodec, _spec("hf_mimi", 800, 3), transformers.MimiModel(cfg), 16


def _tiny_xcodec():
    semantic = dict(model_type="hubert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=8, conv_dim=[4, 4], conv_stride=[2, 4], conv_kernel=[4, 4],
                    num_conv_pos_embeddings=4, num_conv_pos_embedding_groups=2)
    acoustic = dict(encoder_hidden_size=4, downsampling_ratios=[2, 4], upsampling_ratios=[4, 2],
                    decoder_hidden_size=16, hidden_size=16, codebook_dim=4, sampling_rate=800)
    cfg = transformers.XcodecConfig(target_bandwidths=[0.4, 0.8], codebook_size=16, sample_rate=800,
                                    acoustic_model_config=acoustic, semantic_model_config=semantic)
    return hf.XcodecCodec, _spec("hf_xcodec", 800, 2), transformers.XcodecModel(cfg), 24


def _tiny_xcodec2():
    # the semantic branch's mel frames are 10 ms at 16 kHz, stacked by 2: the hop must be 320
    semantic = dict(model_type="wav2vec2-bert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=8, feature_projection_input_dim=160, conv_depthwise_kernel_size=3,
                    output_hidden_size=8)
    cfg = transformers.Xcodec2Config(hidden_size=32, intermediate_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, num_key_value_heads=2, head_dim=16,
                                     encoder_hidden_size=2, downsampling_ratios=[4, 8, 10], quantization_dim=40,
                                     quantization_levels=[4, 4], sampling_rate=16000,
                                     semantic_model_config=semantic)
    return hf.Xcodec2Codec, _spec("hf_xcodec2", 16000, 1), transformers.Xcodec2Model(cfg), 32


def _tiny_wavtokenizer():
    cfg = transformers.WavTokenizerConfig(num_filters=2, upsampling_ratios=[2, 4], num_lstm_layers=1, hidden_size=8,
                                          codebook_size=16, codebook_dim=8, decoder_hidden_size=8,
                                          decoder_intermediate_size=16, decoder_num_layers=1,
                                          decoder_attention_num_groups=4, sampling_rate=800)
    return hf.WavTokenizerCodec, _spec("hf_wavtokenizer", 800, 1), transformers.WavTokenizerModel(cfg), 8


TINY = {
    "dac": _tiny_dac,
    "encodec": _tiny_encodec,
    "mimi": _tiny_mimi,
    "xcodec": _tiny_xcodec,
    "xcodec2": _tiny_xcodec2,
    "wavtokenizer": _tiny_wavtokenizer,
}


@pytest.fixture(scope="module", params=sorted(TINY))
def tiny(request):
    torch.manual_seed(0)
    cls, spec, model, dim = TINY[request.param]()
    return cls.from_model(spec, model), dim


def test_encode_decode_embed_shapes(tiny, rng):
    codec, dim = tiny
    hop = codec.hop_length
    n = 11 * hop + 5  # not a whole number of frames
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    enc = codec.encode(wav)
    frames = codec.frames_for(n)
    n_q = len(codec.codebook_sizes)
    assert enc.codes.shape == (n_q, frames) and enc.codes.dtype == np.int64
    assert enc.codes.min() >= 0 and enc.codes.max() < max(codec.codebook_sizes)
    assert enc.n_samples == n and enc.sample_rate == codec.sample_rate
    assert enc.n_bits == round(frames * sum(math.log2(s) for s in codec.codebook_sizes))
    # frame rate: one frame per hop (X-codec-2 adds one padding frame, as upstream)
    assert abs(frames - n / hop) <= 1.0
    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32 and np.all(np.isfinite(out))
    emb = codec.embed(wav)
    assert emb.shape == (frames, dim) and emb.dtype == np.float32
    res = codec.resynthesize(wav)
    assert res.wav.shape == (n,)
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
    # the longest item of a batch sees no padding: identical codes
    np.testing.assert_array_equal(batch[0].codes, ea.codes)
    outs = codec.decode_batch(batch)
    assert [o.shape for o in outs] == [a.shape, b.shape]
    embs = codec.embed_batch([a, b])
    assert embs[1].shape[0] == eb.codes.shape[1]
    res = codec.resynthesize_batch([a, b])
    assert [r.wav.shape for r in res] == [a.shape, b.shape]


def test_long_files_are_chunked(tiny, rng):
    codec, _ = tiny
    hop = codec.hop_length
    n = 13 * hop + 7
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    old = codec.chunk_seconds
    try:
        codec.chunk_seconds = 4 * hop / codec.sample_rate  # 4 frames a chunk -> 4 chunks
        assert len(codec._segments(wav)) == 4
        enc = codec.encode(wav)
        assert enc.codes.shape[1] == codec.frames_for(n)
        assert codec.decode(enc).shape == (n,)
        assert codec.embed(wav).shape[0] == codec.frames_for(n)
    finally:
        codec.chunk_seconds = old


def test_dac_embedding_is_quantized_representation(rng):
    torch.manual_seed(0)
    cls, spec, model, _ = _tiny_dac()
    codec = cls.from_model(spec, model)
    wav = (0.1 * rng.standard_normal(16 * 10)).astype(np.float32)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(wav)[None, None], n_quantizers=2).quantized_representation
    np.testing.assert_allclose(codec.embed(wav), z[0].T.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_n_q_is_rejected():
    cls, spec, model, _ = _tiny_encodec()
    with pytest.raises(CodecRuntimeError, match="matches none"):
        cls.from_model(CodecSpec(**{**spec.to_dict(), "n_q": 5}), model)
    cls, spec, model, _ = _tiny_dac()
    with pytest.raises(CodecRuntimeError, match="n_q must be in 1..3"):
        cls.from_model(CodecSpec(**{**spec.to_dict(), "n_q": 4}), model)


def test_sample_rate_mismatch():
    cls, spec, model, _ = _tiny_dac()
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


def test_local_weights_folder_loads(tmp_path, rng):
    torch.manual_seed(0)
    cls, spec, model, _ = _tiny_dac()
    model.save_pretrained(tmp_path / "ckpt")
    loaded = cls(spec, weights=tmp_path / "ckpt")
    wav = (0.1 * rng.standard_normal(160)).astype(np.float32)
    np.testing.assert_array_equal(loaded.encode(wav).codes, cls.from_model(spec, model).encode(wav).codes)
    spec_opt = CodecSpec(**{**spec.to_dict(), "options": {"weights": str(tmp_path / "ckpt")}})
    assert cls.available(spec_opt) is None


@pytest.mark.gpu
def test_gpu_bf16_matches_shapes(rng):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    cls, spec, model, dim = _tiny_dac()
    spec = CodecSpec(**{**spec.to_dict(), "options": {"dtype": "bfloat16"}})
    codec = cls.from_model(spec, model, device="cuda")
    wav = (0.1 * rng.standard_normal(16 * 20)).astype(np.float32)
    assert codec.encode(wav).codes.shape == (2, 20)
    assert codec.decode(codec.encode(wav)).shape == wav.shape
    assert codec.embed(wav).shape == (20, dim)
