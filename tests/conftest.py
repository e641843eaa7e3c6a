"""Shared fixtures: a seeded rng, small generated audio (never committed), tiny random transformers codecs."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from codecbench_utils.codecs import hf, hf_latent
from codecbench_utils.codecs.base import CodecSpec

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def make_signal(rng: np.random.Generator, sr: int, seconds: float = 1.0) -> np.ndarray:
    """A broadband, speech-like test signal: harmonic tones with onsets plus filtered noise."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    x = 0.3 * tone * env + 0.05 * noise
    return (0.8 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture
def signal():
    return make_signal


def codec_like_estimates(rng: np.random.Generator, ref: np.ndarray) -> dict[str, np.ndarray]:
    """What codecs hand back for ``ref`` (16 kHz): noisy, low-passed (nothing left above 4 kHz), quieter, clipped."""
    import scipy.signal

    low = scipy.signal.resample_poly(scipy.signal.resample_poly(ref, 1, 2), 2, 1)[: len(ref)]
    b, a = scipy.signal.butter(8, 0.4)
    return {
        "noisy": ref + 0.02 * rng.standard_normal(len(ref)),
        "lowpass_8k": low,
        "butterworth": scipy.signal.lfilter(b, a, ref),
        "quiet": 0.05 * ref,
        "clipped": np.clip(1.5 * ref, -0.5, 0.5),
    }


@pytest.fixture
def codec_like():
    return codec_like_estimates


# ------------------------------------------------------------------ tiny transformers codecs (codec and probe tests)
def _tf():
    return pytest.importorskip("transformers")


def _spec(backend: str, sr: int, n_q: int, **options) -> CodecSpec:
    return CodecSpec(id=f"tiny_{backend}", family="test", backend=backend, sample_rate=sr, n_q=n_q,
                     options=options)


def _tiny_dac():
    cfg = _tf().DacConfig(encoder_hidden_size=4, downsampling_ratios=[2, 4], decoder_hidden_size=16,
                                 n_codebooks=3, codebook_size=16, codebook_dim=4, sampling_rate=800)
    return hf.DacCodec, _spec("hf_dac", 800, 2), _tf().DacModel(cfg), 16


def _tiny_encodec():
    # 100 Hz x 4 bits = 0.4 kbps a codebook: 0.8 kbps selects 2 codebooks
    cfg = _tf().EncodecConfig(hidden_size=8, num_filters=2, upsampling_ratios=[2, 4], num_lstm_layers=1,
                                     codebook_size=16, target_bandwidths=[0.4, 0.8, 1.2], sampling_rate=800)
    return hf.EncodecCodec, _spec("hf_encodec", 800, 2), _tf().EncodecModel(cfg), 8


def _tiny_mimi():
    cfg = _tf().MimiConfig(hidden_size=16, num_filters=2, upsampling_ratios=[2, 4], codebook_size=16,
                                  codebook_dim=8, num_quantizers=4, vector_quantization_hidden_dimension=8,
                                  upsample_groups=16, num_hidden_layers=1, intermediate_size=16,
                                  num_attention_heads=2, num_key_value_heads=2, sampling_rate=800,
                                  sliding_window=10, max_position_embeddings=200)
    return hf.MimiCodec, _spec("hf_mimi", 800, 3), _tf().MimiModel(cfg), 16


def _tiny_xcodec():
    semantic = dict(model_type="hubert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=8, conv_dim=[4, 4], conv_stride=[2, 4], conv_kernel=[4, 4],
                    num_conv_pos_embeddings=4, num_conv_pos_embedding_groups=2)
    acoustic = dict(encoder_hidden_size=4, downsampling_ratios=[2, 4], upsampling_ratios=[4, 2],
                    decoder_hidden_size=16, hidden_size=16, codebook_dim=4, sampling_rate=800)
    cfg = _tf().XcodecConfig(target_bandwidths=[0.4, 0.8], codebook_size=16, sample_rate=800,
                                    acoustic_model_config=acoustic, semantic_model_config=semantic)
    return hf.XcodecCodec, _spec("hf_xcodec", 800, 2), _tf().XcodecModel(cfg), 24


def _tiny_xcodec2():
    # the semantic branch's mel frames are 10 ms at 16 kHz, stacked by 2: the hop must be 320
    semantic = dict(model_type="wav2vec2-bert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=8, feature_projection_input_dim=160, conv_depthwise_kernel_size=3,
                    output_hidden_size=8)
    cfg = _tf().Xcodec2Config(hidden_size=32, intermediate_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, num_key_value_heads=2, head_dim=16,
                                     encoder_hidden_size=2, downsampling_ratios=[4, 8, 10], quantization_dim=40,
                                     quantization_levels=[4, 4], sampling_rate=16000,
                                     semantic_model_config=semantic)
    return hf.Xcodec2Codec, _spec("hf_xcodec2", 16000, 1), _tf().Xcodec2Model(cfg), 32


def _tiny_wavtokenizer():
    cfg = _tf().WavTokenizerConfig(num_filters=2, upsampling_ratios=[2, 4], num_lstm_layers=1, hidden_size=8,
                                          codebook_size=16, codebook_dim=8, decoder_hidden_size=8,
                                          decoder_intermediate_size=16, decoder_num_layers=1,
                                          decoder_attention_num_groups=4, sampling_rate=800)
    return hf.WavTokenizerCodec, _spec("hf_wavtokenizer", 800, 1), _tf().WavTokenizerModel(cfg), 8


def _tiny_neucodec():
    # X-codec-2's tiny semantic branch (hop 320 at 16 kHz), decoding at 24 kHz as the real one does
    semantic = dict(model_type="wav2vec2-bert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=8, feature_projection_input_dim=160, conv_depthwise_kernel_size=3,
                    output_hidden_size=8)
    cfg = _tf().NeuCodecConfig(hidden_size=32, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                               num_key_value_heads=2, head_dim=16, encoder_hidden_size=2,
                               downsampling_ratios=[4, 8, 10], quantization_dim=40, quantization_levels=[4, 4],
                               semantic_model_config=semantic)
    spec = _spec("hf_neucodec", 16000, 1)
    spec = dataclasses.replace(spec, output_sample_rate=24000)
    return hf.NeuCodecCodec, spec, _tf().NeuCodecModel(cfg), 32


def _tiny_vibevoice():
    cfg = _tf().VibeVoiceAcousticTokenizerConfig(hidden_size=8, num_filters=4, downsampling_ratios=[2, 4],
                                                 depths=[1, 1, 1], kernel_size=3)
    spec = dataclasses.replace(_spec("hf_vibevoice", 800, 1), n_q=None)
    return hf_latent.VibeVoiceCodec, spec, _tf().VibeVoiceAcousticTokenizerModel(cfg), 8


def _tiny_pockettts():
    cfg = _tf().PocketTTSAudioTokenizerConfig(hidden_size=16, num_filters=2, upsampling_ratios=[2, 4],
                                              upsample_groups=16, num_hidden_layers=1, intermediate_size=16,
                                              num_attention_heads=2, num_key_value_heads=2, sliding_window=10,
                                              max_position_embeddings=200, latent_stride=2, latent_dim=4,
                                              sampling_rate=800)
    spec = dataclasses.replace(_spec("hf_pockettts", 800, 1), n_q=None)
    return hf_latent.PocketTTSCodec, spec, _tf().PocketTTSAudioTokenizerModel(cfg), 4


TINY = {
    "neucodec": _tiny_neucodec,
    "vibevoice": _tiny_vibevoice,
    "pockettts": _tiny_pockettts,
    "dac": _tiny_dac,
    "encodec": _tiny_encodec,
    "mimi": _tiny_mimi,
    "xcodec": _tiny_xcodec,
    "xcodec2": _tiny_xcodec2,
    "wavtokenizer": _tiny_wavtokenizer,
}


@pytest.fixture(scope="module", params=sorted(TINY))
def tiny(request):
    """(codec, embedding dim) of each transformers adapter on a tiny random configuration."""
    import torch

    torch.manual_seed(0)
    cls, spec, model, dim = TINY[request.param]()
    return cls.from_model(spec, model), dim




@pytest.fixture(scope="module")
def tiny_builders() -> dict:
    """name -> builder returning (adapter class, spec, random model, embedding dim)."""
    return TINY


@pytest.fixture
def conforms():
    """Assert that a loaded codec passes the conformance suite (delay may be inconclusive on random weights)."""
    from codecbench_utils.codecs.conformance import check_codec

    def check(codec) -> None:
        report = check_codec(codec)
        assert report.ok, report.describe()
        assert report.status()["length"] == report.status()["embeddings"] == "pass", report.describe()

    return check
