"""MaskGCT and Stable Codec adapters against miniature stand-ins written to tmp_path.

The stand-ins keep upstream's module paths, class names, constructor keywords and call
signatures/shapes (Amphion: ``models/codec/amphion_codec/codec.py`` with ``CodecEncoder`` /
``CodecDecoder``, weights as ``safetensors.torch.save_model`` files; Stable Codec: a
``stable_codec`` package with ``StableCodec`` and its residual post-hoc FSQ), with tiny
random weights so the tests run in seconds on CPU.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.maskgct import MaskGCTCodec
from codecbench_utils.codecs.registry import get_spec
from codecbench_utils.codecs.stablecodec import StableCodecCodec
from codecbench_utils.errors import MissingDependencyError, MissingWeightsError

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")

# --------------------------------------------------------------------------- MaskGCT (Amphion)

FAKE_AMPHION_CODEC = '''
import math

import torch
import torch.nn.functional as F
from torch import nn


class CodecEncoder(nn.Module):
    """One strided conv with the total stride of up_ratios: (B, 1, T) -> (B, out_channels, T / hop)."""

    def __init__(self, d_model=64, up_ratios=[4, 5, 5, 6], out_channels=256, use_tanh=False, cfg=None):
        super().__init__()
        hop = math.prod(up_ratios)
        self.block = nn.Conv1d(1, out_channels, kernel_size=hop, stride=hop)
        self.use_tanh = use_tanh

    def forward(self, x):
        y = self.block(x)
        return torch.tanh(y) if self.use_tanh else y


class _FVQ(nn.Module):
    """Factorized VQ: project to codebook_dim, nearest L2-normalized code, project back."""

    def __init__(self, input_dim, codebook_size, codebook_dim):
        super().__init__()
        self.in_project = nn.Conv1d(input_dim, codebook_dim, 1)
        self.out_project = nn.Conv1d(codebook_dim, input_dim, 1)
        self.codebook = nn.Embedding(codebook_size, codebook_dim)

    def forward(self, z):  # (B, D, T) -> z_q (B, D, T), losses, indices (B, T), z_e
        z_e = self.in_project(z)
        enc = F.normalize(z_e.transpose(1, 2), dim=-1)
        book = F.normalize(self.codebook.weight, dim=-1)
        indices = (enc @ book.T).argmax(-1)
        zeros = torch.zeros(z.shape[0])
        return self.vq2emb(indices), zeros, zeros, indices, z_e

    def vq2emb(self, vq):  # (B, T) -> (B, D, T)
        return self.out_project(self.codebook(vq).transpose(1, 2))


class _ResidualVQ(nn.Module):
    def __init__(self, input_dim, num_quantizers, codebook_size, codebook_dim):
        super().__init__()
        self.num_quantizers = num_quantizers
        self.quantizers = nn.ModuleList(
            [_FVQ(input_dim, codebook_size, codebook_dim) for _ in range(num_quantizers)])

    def forward(self, z, n_quantizers=None):
        n_quantizers = self.num_quantizers if n_quantizers is None else n_quantizers
        out, residual, idx = 0.0, z, []
        for i, q in enumerate(self.quantizers):
            if i >= n_quantizers:
                break
            z_q, _, _, ind, _ = q(residual)
            out = out + z_q
            residual = residual - z_q
            idx.append(ind)
        zeros = torch.zeros(len(idx))
        return out, torch.stack(idx), zeros, zeros, None  # indices (N, B, T)

    def vq2emb(self, vq, n_quantizers=None):  # vq (N, B, T); sums n_quantizers codebooks (default: all)
        n_quantizers = self.num_quantizers if n_quantizers is None else n_quantizers
        out = 0.0
        for i, q in enumerate(self.quantizers):
            if i >= n_quantizers:
                break
            out = out + q.vq2emb(vq[i])
        return out


class CodecDecoder(nn.Module):
    def __init__(self, in_channels=256, upsample_initial_channel=1536, up_ratios=[5, 5, 4, 2],
                 num_quantizers=8, codebook_size=1024, codebook_dim=256, quantizer_type="vq",
                 quantizer_dropout=0.5, commitment=0.25, codebook_loss_weight=1.0, use_l2_normlize=False,
                 codebook_type="euclidean", kmeans_init=False, kmeans_iters=10, decay=0.8, eps=1e-5,
                 threshold_ema_dead_code=2, weight_init=False, use_vocos=False, vocos_dim=384,
                 vocos_intermediate_dim=1152, vocos_num_layers=8, n_fft=800, hop_size=200,
                 padding="same", cfg=None):
        super().__init__()
        assert quantizer_type == "fvq" and use_vocos
        self.quantizer = _ResidualVQ(in_channels, num_quantizers, codebook_size, codebook_dim)
        self.model = nn.ConvTranspose1d(in_channels, 1, kernel_size=hop_size, stride=hop_size)

    def forward(self, x=None, vq=False, eval_vq=False, n_quantizers=None):
        if vq is True:
            return self.quantizer(x, n_quantizers=n_quantizers)
        return self.model(x)

    def quantize(self, x, n_quantizers=None):
        self.quantizer.eval()
        quantized_out, vq, _, _, _ = self.quantizer(x, n_quantizers=n_quantizers)
        return quantized_out, vq

    def vq2emb(self, vq, n_quantizers=None):
        return self.quantizer.vq2emb(vq, n_quantizers=n_quantizers)

    def decode(self, x):
        return self.model(x)
'''


@pytest.fixture
def fake_maskgct(tmp_path, monkeypatch, checkouts):
    repo = tmp_path / "Amphion"
    # no __init__.py in amphion_codec/ upstream either
    checkouts.write_tree(repo, {"models/__init__.py": "", "models/codec/__init__.py": "",
                      "models/codec/amphion_codec/codec.py": FAKE_AMPHION_CODEC})
    ckpt = tmp_path / "MaskGCT" / "acoustic_codec"
    ckpt.mkdir(parents=True)
    assert "models" not in sys.modules
    with checkouts.importable(repo, packages=("models",)):
        from models.codec.amphion_codec.codec import CodecDecoder, CodecEncoder

        torch.manual_seed(0)
        st.save_model(CodecEncoder(**MaskGCTCodec.ENCODER_KW), str(ckpt / "model.safetensors"))
        st.save_model(CodecDecoder(**MaskGCTCodec.DECODER_KW), str(ckpt / "model_1.safetensors"))
    monkeypatch.setenv("CODECBENCH_AMPHION_DIR", str(repo))
    monkeypatch.setenv("CODECBENCH_MASKGCT_DIR", str(tmp_path / "MaskGCT"))
    yield repo, ckpt
    checkouts.forget_modules("models")


def test_maskgct_config_matches_upstream():
    # models/tts/maskgct/config/maskgct.json (acoustic_codec): 24 kHz, hop 3*4*5*8 = 480, 12 x 1024
    assert math.prod(MaskGCTCodec.ENCODER_KW["up_ratios"]) == MaskGCTCodec.HOP == 480
    assert MaskGCTCodec.DECODER_KW["hop_size"] == MaskGCTCodec.HOP
    assert MaskGCTCodec.DECODER_KW["in_channels"] == MaskGCTCodec.ENCODER_KW["out_channels"] == 256
    assert "in_channel" not in MaskGCTCodec.DECODER_KW  # upstream's keyword is in_channels
    for nq in (8, 12):
        spec = get_spec(f"maskgct_nq{nq}")
        assert spec.sample_rate / MaskGCTCodec.HOP == spec.frame_rate == 50
        assert spec.codebook_size == MaskGCTCodec.DECODER_KW["codebook_size"]
        assert spec.n_q <= MaskGCTCodec.DECODER_KW["num_quantizers"]
        assert spec.embedding_dim == MaskGCTCodec.DECODER_KW["in_channels"]


@pytest.mark.parametrize("codec_id, n_q", [("maskgct_nq8", 8), ("maskgct_nq12", 12)])
def test_maskgct_adapter_roundtrip(fake_maskgct, rng, codec_id, n_q, conforms):
    repo, _ = fake_maskgct
    path_before = list(sys.path)
    codec = MaskGCTCodec(get_spec(codec_id))
    conforms(codec)
    assert sys.path == path_before and str(repo) not in sys.path
    assert not codec.encoder.training and not codec.decoder.training

    n = 24000 // 5 + 123  # not a whole number of 480-sample frames
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    frames = math.ceil(n / 480)
    enc = codec.encode(wav)
    assert enc.codes.shape == (n_q, frames) and enc.codes.dtype == np.int64
    assert enc.codes.min() >= 0 and enc.codes.max() < 1024
    assert enc.sample_rate == 24000 and enc.n_samples == n
    assert enc.n_bits == n_q * 10 * frames
    assert enc.bitrate_kbps == pytest.approx(n_q * 10 * frames / (n / 24000) / 1000)

    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32
    vq = torch.as_tensor(enc.codes)[:, None]  # (n_q, 1, F), upstream's layout
    with torch.inference_mode():
        ref = codec.decoder(codec.decoder.vq2emb(vq, n_quantizers=n_q), vq=False).reshape(-1).numpy()
    np.testing.assert_allclose(out, ref[:n], rtol=1e-5, atol=1e-6)

    emb = codec.embed(wav)
    assert emb.shape == (frames, 256) and emb.dtype == np.float32
    # the quantizer's output for the first n_q codebooks == the sum of their out-projected code vectors
    with torch.inference_mode():
        from_codes = codec.decoder.vq2emb(vq, n_quantizers=n_q)[0].T.numpy()
    np.testing.assert_allclose(emb, from_codes, rtol=1e-4, atol=1e-5)
    if n_q < 12:  # fewer codebooks than the checkpoint has: not the full-depth sum
        with torch.inference_mode():
            latent = codec.encoder(codec._tensor(wav))
            full = codec.decoder.quantize(latent, n_quantizers=12)[0][0].T.numpy()
        assert not np.allclose(emb, full)

    res = codec.resynthesize(wav)
    assert res.wav.shape == (n,) and res.bitrate_kbps == pytest.approx(enc.bitrate_kbps)
    assert sys.path == path_before


def test_maskgct_weights_override(fake_maskgct, rng):
    _, ckpt = fake_maskgct
    moved = ckpt.parent / "elsewhere.safetensors"
    (ckpt / "model.safetensors").rename(moved)
    codec = MaskGCTCodec(get_spec("maskgct_nq8"), weights=moved)
    assert codec.paths["encoder"] == moved
    assert codec.encode(np.zeros(480, np.float32)).codes.shape == (8, 1)


def test_maskgct_missing_files(fake_maskgct, tmp_path, monkeypatch):
    _, ckpt = fake_maskgct
    spec = get_spec("maskgct_nq8")
    (ckpt / "model_1.safetensors").unlink()
    with pytest.raises(MissingWeightsError, match=r"maskgct_nq8': decoder not found at .*model_1\.safetensors; "
                                                  r"download acoustic_codec/model_1\.safetensors from "
                                                  r"https://huggingface\.co/amphion/MaskGCT"):
        MaskGCTCodec(spec)
    (ckpt / "model.safetensors").unlink()
    reason = MaskGCTCodec.available(spec)
    assert "encoder not found" in reason and "acoustic_codec/model.safetensors" in reason
    monkeypatch.setenv("CODECBENCH_AMPHION_DIR", str(tmp_path / "no-checkout"))
    reason = MaskGCTCodec.available(spec)
    assert "repo_dir not found" in reason and "github.com/open-mmlab/Amphion" in reason
    monkeypatch.delenv("CODECBENCH_AMPHION_DIR")
    assert "environment variable" in MaskGCTCodec.available(spec)


# --------------------------------------------------------------------------- Stable Codec

FAKE_STABLE_CODEC_MODEL = '''
import json

import torch
from torch import nn


class _FSQ(nn.Module):
    """Finite scalar quantizer over len(levels) channels; indices (B, N, 1), codes (B, N, C)."""

    def __init__(self, levels, scale=1.0):
        super().__init__()
        self.levels = torch.tensor(levels, dtype=torch.int64)
        self.basis = torch.cumprod(torch.tensor([1] + list(levels[:-1])), 0)
        self.half = scale * 2 / (self.levels - 1)
        self.scale = scale

    def forward(self, z):  # z (B, N, C), already squashed to [-1, 1]
        assert z.shape[-1] == len(self.levels)
        steps = ((z + self.scale) / self.half).round()
        codes = steps * self.half - self.scale
        return codes, (steps.to(torch.int64) * self.basis).sum(-1, keepdim=True)

    def indices_to_codes(self, indices):
        assert indices.shape[-1] == 1, "expected one codebook in the last dimension"
        steps = (indices // self.basis) % self.levels  # (B, N, 1) -> (B, N, C)
        return (steps * self.half - self.scale).float()


class _ResidualFSQ(nn.Module):
    def __init__(self, stages):
        super().__init__()
        self.quantizers = nn.ModuleList([_FSQ(levels, scale) for levels, scale in stages])

    def encode(self, x):  # (B, C, N) -> list of (B, N, 1)
        r = torch.tanh(x.to(torch.float64)).transpose(1, 2)
        ids = []
        for q in self.quantizers:
            codes, i = q(r)
            r = r - codes
            ids.append(i)
        return ids

    def decode(self, res_ids):  # list of (B, N, 1) -> (B, C, N)
        return sum(q.indices_to_codes(res_ids[i]) for i, q in enumerate(self.quantizers)).transpose(1, 2)


class _Autoencoder(nn.Module):
    def __init__(self, latent_dim, downsampling_ratio):
        super().__init__()
        self.encoder = nn.Conv1d(1, latent_dim, downsampling_ratio, stride=downsampling_ratio)
        self.decoder = nn.ConvTranspose1d(latent_dim, 1, downsampling_ratio, stride=downsampling_ratio)

    def encode_audio(self, audio, return_info=False, skip_bottleneck=False, **kwargs):
        assert audio.dim() == 3 and skip_bottleneck
        latents = self.encoder(audio)
        return latents, {"pre_bottleneck_latents": latents}

    def decode_audio(self, latents, **kwargs):
        return self.decoder(latents)


class StableCodec(nn.Module):
    def __init__(self, model_config_path=None, ckpt_path=None, pretrained_model=None, device=torch.device("cpu")):
        super().__init__()
        if pretrained_model is not None:
            raise RuntimeError("the stand-in has no Hub access")
        with open(model_config_path) as f:
            config = json.load(f)
        self.device = device
        self.model = _Autoencoder(config["model"]["latent_dim"], config["model"]["downsampling_ratio"])
        if ckpt_path is not None:
            self.model.load_state_dict(torch.load(ckpt_path, map_location="cpu")["state_dict"])
        self.model = self.model.to(device).eval().requires_grad_(False)
        self.sample_rate = config["sample_rate"]
        self.residual_fsq = None
        self.preset_bottleneck_configs = {
            "1x46656_400bps": [([6] * 6, 1.0)],
            "2x15625_700bps": [([5] * 6, 1.0), ([5] * 6, 0.25)],
            "4x729_1000bps": [([3] * 6, 1.0), ([3] * 6, 0.5), ([3] * 6, 0.25), ([3] * 6, 0.125)],
        }

    def set_posthoc_bottleneck(self, stages):
        if isinstance(stages, str):
            stages = self.preset_bottleneck_configs[stages]
        self.residual_fsq = _ResidualFSQ(stages)

    def encode(self, audio, posthoc_bottleneck=False, normalize=True, **kwargs):
        assert posthoc_bottleneck and not isinstance(audio, str)
        latents, info = self.model.encode_audio(audio, return_info=True, skip_bottleneck=True, **kwargs)
        return info["pre_bottleneck_latents"], self.residual_fsq.encode(latents)

    def decode(self, tokens, posthoc_bottleneck=False, **kwargs):
        assert posthoc_bottleneck
        return self.model.decode_audio(self.residual_fsq.decode(tokens), **kwargs)
'''


@pytest.fixture
def fake_stable_codec(tmp_path, monkeypatch, checkouts):
    site = tmp_path / "site"
    checkouts.write_tree(site, {"stable_codec/__init__.py": "from stable_codec.model import StableCodec\n",
                      "stable_codec/model.py": FAKE_STABLE_CODEC_MODEL})
    config = tmp_path / "model_config.json"
    config.write_text(json.dumps({"sample_rate": 16000, "model": {"latent_dim": 6, "downsampling_ratio": 640}}))
    torch.manual_seed(0)
    enc = torch.nn.Conv1d(1, 6, 640, stride=640)
    dec = torch.nn.ConvTranspose1d(6, 1, 640, stride=640)
    state = {**{f"encoder.{k}": v for k, v in enc.state_dict().items()},
             **{f"decoder.{k}": v for k, v in dec.state_dict().items()}}
    torch.save({"state_dict": state}, tmp_path / "model.ckpt")
    assert "stable_codec" not in sys.modules
    monkeypatch.syspath_prepend(str(site))
    yield site, config, tmp_path / "model.ckpt"
    checkouts.forget_modules("stable_codec")


def _sc_spec(codec_id: str, config, ckpt=None) -> CodecSpec:
    d = get_spec(codec_id).to_dict()
    options = {**d["options"], "model_config": str(config)}
    if ckpt is not None:
        options["checkpoint"] = str(ckpt)
    return CodecSpec(**{**d, "options": options})


@pytest.mark.parametrize("codec_id, n_q, size", [("stablecodec_nq1", 1, 46656), ("stablecodec_nq4", 4, 729)])
def test_stablecodec_adapter_roundtrip(fake_stable_codec, rng, codec_id, n_q, size, conforms):
    site, config, ckpt = fake_stable_codec
    path_before = list(sys.path)
    codec = StableCodecCodec(_sc_spec(codec_id, config, ckpt))
    conforms(codec)
    assert sys.path == path_before
    assert codec.sc.residual_fsq is not None and len(codec.sc.residual_fsq.quantizers) == n_q
    assert codec.sc.sample_rate == codec.sample_rate == 16000

    n = 16000 // 2 + 77  # not a whole number of 640-sample frames
    wav = (0.3 * rng.standard_normal(n)).astype(np.float32)
    frames = math.ceil(n / 640)
    enc = codec.encode(wav)
    assert enc.codes.shape == (n_q, frames) and enc.codes.dtype == np.int64
    assert enc.codes.min() >= 0 and enc.codes.max() < size
    assert enc.n_bits == round(n_q * math.log2(size) * frames)
    assert enc.bitrate_kbps == pytest.approx(codec.spec.kbps, rel=0.05)

    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32
    padded = codec._tensor(wav)
    with torch.inference_mode():
        _, tokens = codec.sc.encode(padded, posthoc_bottleneck=True)
        ref = codec.sc.decode(tokens, posthoc_bottleneck=True).reshape(-1).numpy()
    np.testing.assert_allclose(out, ref[:n], rtol=1e-5, atol=1e-6)

    emb = codec.embed(wav)
    assert emb.shape == (frames, 6) and emb.dtype == np.float32
    # the FSQ-dequantized latent decode synthesizes from, not encode's pre-bottleneck latents
    with torch.inference_mode():
        deq = codec.sc.residual_fsq.decode(tokens)[0].T.numpy()
        pre, _ = codec.sc.encode(padded, posthoc_bottleneck=True)
    np.testing.assert_allclose(emb, deq, rtol=1e-6)
    assert not np.allclose(emb, pre[0].T.numpy(), atol=1e-3)
    assert np.abs(emb).max() <= 1.0 + 1e-6  # tanh-squashed and quantized
    assert sys.path == path_before


def test_stablecodec_weights_override(fake_stable_codec, tmp_path):
    _, config, ckpt = fake_stable_codec
    spec = _sc_spec("stablecodec_nq1", config)
    codec = StableCodecCodec(spec, weights=ckpt)
    assert codec.paths == {"checkpoint": ckpt, "model_config": config}
    assert codec.encode(np.zeros(640, np.float32)).codes.shape == (1, 1)


def test_stablecodec_missing_files(fake_stable_codec, tmp_path):
    _, config, ckpt = fake_stable_codec
    with pytest.raises(MissingWeightsError, match=r"stablecodec_nq4': checkpoint not found at .*nothere\.ckpt; "
                                                  r"download it from "
                                                  r"https://huggingface\.co/stabilityai/stable-codec-speech-16k"):
        StableCodecCodec(_sc_spec("stablecodec_nq4", config), weights=tmp_path / "nothere.ckpt")
    reason = StableCodecCodec.available(_sc_spec("stablecodec_nq4", tmp_path / "none.json", ckpt))
    assert "model_config not found" in reason and "none.json" in reason
    spec = CodecSpec(**{**get_spec("stablecodec_nq4").to_dict(),
                        "options": {"pretrained": "stabilityai/stable-codec-speech-16k",
                                    "bottleneck": "4x729_1000bps", "checkpoint": str(ckpt)}})
    assert "options.model_config is not set" in StableCodecCodec.available(spec)


def test_stablecodec_package_missing():
    if "stable_codec" in sys.modules or __import__("importlib").util.find_spec("stable_codec") is not None:
        pytest.skip("stable_codec is installed here")
    reason = StableCodecCodec.available(get_spec("stablecodec_nq1"))
    assert "stable_codec" in reason and "pip install stable-codec" in reason
    with pytest.raises(MissingDependencyError, match="pip install stable-codec"):
        StableCodecCodec(get_spec("stablecodec_nq1"))


def test_modules_and_path_left_clean():
    # runs after the fixtures above have been torn down
    assert not any(m == "stable_codec" or m.startswith("stable_codec.") for m in sys.modules)
    assert not any(m == "models" or m.startswith("models.") for m in sys.modules)
    assert not any(p.endswith(("Amphion", "site")) and "pytest" in p for p in sys.path)
