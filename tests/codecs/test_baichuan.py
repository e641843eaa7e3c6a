"""Baichuan-Audio adapter against a miniature stand-in of both upstream folders, written to tmp_path.

The Hugging Face snapshot stand-in keeps upstream's file names (``config.json``, ``configuration_omni.py``,
``audio_modeling_omni.py``, ``vector_quantize.py``, sharded ``model-*.safetensors`` + index with the tokenizer
under ``audio_tokenizer.*`` next to LLM tensors), class names, constructors and call signatures (packed
sequences, ``encoder_length``/``bridge_length``, ``flash_attn_varlen_func`` and ``deepspeed`` imported at
module top). The GitHub stand-in keeps ``third_party/cosy24k_vocoder`` (``Cosy24kVocoder`` with
``from_pretrained``/``decode``, ``hifigan.generator.HiFTGenerator`` at 24 kHz, ``hift.pt``). Weights are tiny
and random; only shapes, lengths, framing and plumbing are checked.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
import textwrap

import numpy as np
import pytest

from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.registry import get_spec
from codecbench_utils.errors import MissingWeightsError

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
pytest.importorskip("transformers")

from codecbench_utils.codecs.baichuan import BaichuanCodec, _stand_ins_for_missing  # noqa: E402

CONFIGURATION_OMNI = '''
from types import SimpleNamespace


def _ns(d):
    return SimpleNamespace(**{k: _ns(v) if isinstance(v, dict) else v for k, v in d.items()})


class OmniConfig:
    def __init__(self, audio_config=None, vocoder_config=None, flow_matching_config=None, **kwargs):
        for key, value in kwargs.items():
            setattr(self, key, value)
        if audio_config is not None:
            self.audio_config = _ns(audio_config)
        if vocoder_config is not None:
            self.vocoder_config = _ns(vocoder_config)
        if flow_matching_config is not None:
            self.flow_matching_config = _ns(flow_matching_config)
'''

VECTOR_QUANTIZE = '''
import torch
from torch import nn


def get_sequence_mask(inputs, inputs_length):
    bsz, tgt_len = inputs.shape[0], inputs.shape[1]
    mask = (torch.arange(tgt_len, device=inputs.device)[None] < inputs_length.reshape(bsz, 1)).view(bsz, tgt_len, 1)
    return mask, torch.cumsum(mask.view(-1).long(), 0) - 1


class EuclideanCodebook(nn.Module):
    def __init__(self, dim, codebook_size):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(codebook_size, dim))

    def forward(self, x):
        dist = -torch.cdist(x, self.embed)
        idx = dist.argmax(-1)
        return self.embed[idx], idx, dist


class VectorQuantize(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.codebook = EuclideanCodebook(dim=config.dim, codebook_size=config.codebook_size)

    def forward(self, x, input_length):
        b, t, _ = x.shape
        mask, unpack = get_sequence_mask(x, input_length)
        q, idx, _ = self.codebook(torch.masked_select(x.float(), mask).reshape(-1, self.config.dim))
        q = torch.where(mask, torch.index_select(q, 0, unpack).view(b, t, -1), 0)
        idx = torch.where(mask, torch.index_select(idx.reshape(-1, 1), 0, unpack).view(b, t, 1), -1).squeeze()
        return q, idx

    def get_output_from_indices(self, indices):
        return self.codebook.embed[indices]
'''

AUDIO_MODELING_OMNI = '''
import copy
from dataclasses import dataclass
from typing import Optional

import deepspeed
import torch
from flash_attn import flash_attn_varlen_func
from torch import nn
from torch.nn import functional as F

from .vector_quantize import VectorQuantize, get_sequence_mask


def unpack_hidden_states(hidden_states, lengths):
    bsz, t = lengths.shape[0], int(lengths.max())
    mask = (torch.arange(t, device=lengths.device)[None] < lengths.reshape(bsz, 1)).view(bsz, t, 1)
    unpack = torch.cumsum(mask.view(-1).long(), 0) - 1
    out = torch.index_select(hidden_states, 0, unpack).view(bsz, t, hidden_states.shape[-1])
    return torch.where(mask, out, 0)


class OmniWhisperAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, causal=False):
        super().__init__()
        self.num_heads, self.head_dim, self.causal = num_heads, embed_dim // num_heads, causal
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, hidden_states, seq_len):
        n = hidden_states.shape[0]
        q, k, v = self.qkv(hidden_states).view(n, 3, self.num_heads, self.head_dim).unbind(1)
        cu = F.pad(torch.cumsum(seq_len, 0), (1, 0)).to(torch.int32)
        mx = seq_len.max().to(torch.int32)
        out = flash_attn_varlen_func(q, k, v, cu, cu, mx, mx, causal=self.causal)
        return self.out_proj(out.reshape(n, -1))


class OmniAudioEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.conv1 = nn.Conv1d(config.num_mel_bins, config.d_model, kernel_size=config.kernel_size, padding=1)
        self.conv2 = nn.Conv1d(config.d_model, config.d_model, kernel_size=config.kernel_size,
                               stride=config.stride_size, padding=1)
        self.attn = OmniWhisperAttention(config.d_model, config.encoder_attention_heads)
        self.layer_norm = nn.LayerNorm(config.d_model)

    def forward(self, input_features, output_length):
        x = F.gelu(self.conv1(input_features.to(self.conv1.weight.dtype)))
        x = F.gelu(self.conv2(x)).permute(0, 2, 1)
        bsz, tgt_len, d = x.shape
        mask, unpack = get_sequence_mask(x, output_length)
        h = torch.masked_select(x, mask).view(-1, d)
        h = self.layer_norm(h + self.attn(h, output_length))
        return torch.where(mask, torch.index_select(h, 0, unpack).view(bsz, tgt_len, d), 0)


class OmniAudioVQBridgeTokenizer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config.audio_config
        d, p = self.config.d_model, self.config.avg_pooler
        self.intermediate_dim = d * p
        self.gate_proj = nn.Conv1d(d, self.intermediate_dim, p, p, bias=False)
        self.up_proj = nn.Conv1d(d, self.intermediate_dim, p, p, bias=False)
        self.down_proj = nn.Linear(self.intermediate_dim, self.intermediate_dim, bias=False)
        self.layer_norm = nn.LayerNorm(self.intermediate_dim)
        self.proj_decoder = nn.Linear(self.intermediate_dim, d)
        self.vq_list = nn.ModuleList([])
        for size in self.config.vq_config.codebook_sizes:
            vq_config = copy.deepcopy(self.config.vq_config)
            vq_config.dim, vq_config.codebook_size = self.intermediate_dim, size
            self.vq_list.append(VectorQuantize(vq_config))
        for vq_layer in self.vq_list:
            deepspeed.zero.register_external_parameter(self, vq_layer.codebook.embed)

    def forward(self, x, output_length):
        b = x.shape[0]
        p = self.config.avg_pooler
        if x.shape[1] % p:
            x = F.pad(x, (0, 0, 0, p - x.shape[1] % p))
        xt = x.permute(0, 2, 1)
        g, u = self.gate_proj(xt).permute(0, 2, 1), self.up_proj(xt).permute(0, 2, 1)
        res = self.layer_norm(self.down_proj(F.silu(g) * u) + x.reshape(b, -1, self.intermediate_dim))
        valid, _ = get_sequence_mask(res, output_length)
        codes, residual = [], res
        for vq in self.vq_list:
            q, idx = vq(residual, output_length)
            residual = residual.float() - q.float()
            codes.append(idx)
        return torch.masked_select(torch.stack(codes, -1), valid).reshape(-1, len(self.vq_list))

    @torch.no_grad()
    def decode(self, code_ids):
        return self.proj_decoder(self.recover(code_ids))

    @torch.no_grad()
    def recover(self, code_ids):
        n = code_ids.shape[-1]
        res = sum(self.vq_list[i].get_output_from_indices(code_ids[:, i]).float() for i in range(n - 1, -1, -1))
        return res.to(self.proj_decoder.weight)


@dataclass
class OmniAudioDecoderOutput:
    refined_mel: Optional[torch.Tensor] = None
    coarse_mel: Optional[torch.Tensor] = None
    mel_length: Optional[torch.Tensor] = None
    hidden_states_before_dconv2: Optional[torch.Tensor] = None
    output_length_before_dconv2: Optional[torch.Tensor] = None


class OmniAudioDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config, self.vocoder_config = config.audio_config, config.vocoder_config
        d = self.config.d_model
        self.dconv1 = nn.Linear(d, d * self.config.avg_pooler)
        self.dconv2 = nn.Linear(d, self.vocoder_config.num_mel_bins)

    def forward(self, audio_embed, input_length, mel_labels=None, mel_labels_length=None):
        x = unpack_hidden_states(audio_embed, input_length)  # packed (sum(L), d) -> (B, L, d)
        b, t, d = x.shape
        h = self.dconv1(x).reshape(b, t * self.config.avg_pooler, d)
        length = input_length * self.config.avg_pooler
        mask, _ = get_sequence_mask(h, length)
        mel = self.dconv2(h)
        return OmniAudioDecoderOutput(refined_mel=mel, coarse_mel=mel, mel_length=length,
                                      hidden_states_before_dconv2=torch.masked_select(h, mask).view(-1, d),
                                      output_length_before_dconv2=length)


@dataclass
class OmniAudioFlowMatchingDecoderOutput:
    flow_matching_mel: Optional[torch.Tensor] = None
    flow_matching_mel_lengths: Optional[torch.Tensor] = None


class OmniAudioFlowMatchingDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config.flow_matching_config
        self.diffusion_steps = self.config.diffusion_steps
        self.prenet = nn.Linear(self.config.prenet_in_dim, self.config.in_channels)

    def unpack_hidden_states(self, hidden_states, output_length):
        return unpack_hidden_states(hidden_states, output_length), output_length

    def forward(self, refined_mel, input_length, mel_labels=None, mel_labels_length=None):
        mu = self.prenet(refined_mel[:, : int(input_length.max())]).float()
        x = torch.randn_like(mu)
        for step in range(self.diffusion_steps):
            x = x + (mu - x) / (self.diffusion_steps - step)  # Euler steps of a straight flow
        return OmniAudioFlowMatchingDecoderOutput(flow_matching_mel=x, flow_matching_mel_lengths=input_length)
'''

COSY_VOCODER = '''
import torch
import torch.nn as nn
from hifigan.f0_predictor import ConvRNNF0Predictor
from hifigan.generator import HiFTGenerator


class Cosy24kVocoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.hifigan_generator = HiFTGenerator(in_channels=80, sampling_rate=24000, upsample_rates=[8, 5, 3],
                                               f0_predictor=ConvRNNF0Predictor(num_class=1, in_channels=80))

    def decode(self, mel, device="cuda"):
        generated_speech, f0 = self.hifigan_generator.forward({"speech_feat": mel.transpose(1, 2)}, device=device)
        return generated_speech

    @classmethod
    def from_pretrained(cls, model_path):
        model = cls()
        model.hifigan_generator.load_state_dict(torch.load(model_path, map_location=torch.device("cpu")))
        model.eval()
        return model
'''

F0_PREDICTOR = '''
from torch import nn


class ConvRNNF0Predictor(nn.Module):
    def __init__(self, num_class=1, in_channels=80, cond_channels=512):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, num_class, 3, padding=1)

    def forward(self, x):
        return self.conv(x).abs().squeeze(1)
'''

GENERATOR = '''
import math

import torch
from torch import nn


class HiFTGenerator(nn.Module):
    def __init__(self, in_channels=80, sampling_rate=22050, upsample_rates=(8, 8), istft_params=None,
                 f0_predictor=None, **kwargs):
        super().__init__()
        self.sampling_rate = sampling_rate
        self.istft_params = istft_params or {"n_fft": 16, "hop_len": 4}
        self.hop = math.prod(upsample_rates) * self.istft_params["hop_len"]
        self.f0_predictor = f0_predictor
        self.conv_post = nn.Conv1d(in_channels, self.hop, 1)

    def forward(self, batch, device):
        speech_feat = batch["speech_feat"].transpose(1, 2).to(device)  # (B, 80, T)
        f0 = self.f0_predictor(speech_feat)
        x = self.conv_post(speech_feat)  # (B, hop, T)
        speech = torch.tanh(x.transpose(1, 2).reshape(x.shape[0], -1))
        return speech + 1e-3 * torch.rand_like(speech), f0  # noise source, as the NSF generator has
'''

SIZES = [8192, 4096, 2048, 1024, 1024, 1024, 1024, 1024]
WINDOW_S = 2  # max_audio_seconds of the stand-in: 32000 samples a window


def _config(from_hidden: bool) -> dict:
    return {
        "architectures": ["OmniForCausalLM"], "model_type": "omni", "hidden_size": 16, "vocab_size": 32,
        "audio_config": {"num_mel_bins": 16, "d_model": 8, "kernel_size": 3, "stride_size": 2, "avg_pooler": 4,
                         "max_audio_seconds": WINDOW_S, "sampling_rate": 16000, "hop_length": 160, "n_fft": 400,
                         "split_overlap": 0.0, "encoder_attention_heads": 2,
                         "vq_config": {"codebook_sizes": SIZES}},
        "vocoder_config": {"enable": True, "num_mel_bins": 80, "sampling_rate": 16000, "hop_length": 160},
        "flow_matching_config": {"enable": True, "in_channels": 80, "diffusion_steps": 3,
                                 "prenet_in_dim": 8 if from_hidden else 80,
                                 "use_hidden_states_before_dconv2": from_hidden},
    }


def _import_standin(folder, name):
    """Import a stand-in remote-code module the way transformers would: as part of a package."""
    pkg = "_standin_baichuan_build"
    spec = importlib.machinery.ModuleSpec(pkg, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    sys.modules[pkg] = importlib.util.module_from_spec(spec)
    with _stand_ins_for_missing():
        return importlib.import_module(f"{pkg}.{name}")


def _write_checkpoint(ckpt, from_hidden: bool, with_tokenizer: bool = True) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text(json.dumps(_config(from_hidden)))
    for name, text in [("configuration_omni.py", CONFIGURATION_OMNI), ("vector_quantize.py", VECTOR_QUANTIZE),
                       ("audio_modeling_omni.py", AUDIO_MODELING_OMNI)]:
        (ckpt / name).write_text(textwrap.dedent(text))
    try:
        cfg = _import_standin(ckpt, "configuration_omni").OmniConfig(**_config(from_hidden))
        am = _import_standin(ckpt, "audio_modeling_omni")
        torch.manual_seed(0)
        tok = torch.nn.Module()
        tok.audio_model = am.OmniAudioEncoder(cfg.audio_config)
        tok.audio_bridge_model = am.OmniAudioVQBridgeTokenizer(cfg)
        tok.audio_decoder = am.OmniAudioDecoder(cfg)
        tok.audio_flow_matching_decoder = am.OmniAudioFlowMatchingDecoder(cfg)
    finally:
        for name in [m for m in sys.modules if m.startswith("_standin_baichuan_build")]:
            del sys.modules[name]
    llm = {"model.embed_tokens.weight": torch.randn(32, 16), "lm_head.weight": torch.randn(32, 16)}
    audio = {f"audio_tokenizer.{k}": v.detach().clone().contiguous() for k, v in tok.state_dict().items()}
    if not with_tokenizer:
        audio = {}
    keys = sorted(audio)
    shards = {"model-00001-of-00002.safetensors": {**llm, **{k: audio[k] for k in keys[: len(keys) // 2]}},
              "model-00002-of-00002.safetensors": {k: audio[k] for k in keys[len(keys) // 2:]}}
    weight_map = {}
    for shard, tensors in shards.items():
        save_file(tensors, str(ckpt / shard))
        weight_map.update(dict.fromkeys(tensors, shard))
    (ckpt / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


#: the vocoder's top-level modules, imported from the checkout's third_party folder
VOCODER_MODULES = ("cosy24k_vocoder", "hifigan")


def _write_checkout(repo, checkouts) -> None:
    vdir = repo / "third_party" / "cosy24k_vocoder"
    checkouts.write_tree(vdir, {"cosy24k_vocoder.py": COSY_VOCODER, "hifigan/__init__.py": "",
                      "hifigan/f0_predictor.py": F0_PREDICTOR, "hifigan/generator.py": GENERATOR})
    with checkouts.importable(vdir, packages=VOCODER_MODULES):
        torch.manual_seed(1)
        voc = importlib.import_module("cosy24k_vocoder").Cosy24kVocoder()
        torch.save(voc.hifigan_generator.state_dict(), vdir / "hift.pt")


@pytest.fixture(params=[False, True], ids=["fm-from-mel", "fm-from-hidden"])
def fake_baichuan(tmp_path, monkeypatch, request, checkouts):
    repo, ckpt = tmp_path / "Baichuan-Audio", tmp_path / "Baichuan-Audio-Base"
    _write_checkout(repo, checkouts)
    _write_checkpoint(ckpt, from_hidden=request.param)
    monkeypatch.setenv("CODECBENCH_BAICHUAN_DIR", str(repo))
    monkeypatch.setenv("CODECBENCH_BAICHUAN_CKPT", str(ckpt))
    yield repo, ckpt
    checkouts.forget_modules(*VOCODER_MODULES)
    for name in [m for m in sys.modules if m.startswith("_codecbench_baichuan_")]:
        del sys.modules[name]


def _expected_frames(n: int) -> int:
    """12.5 Hz frames: 100 Hz mels (n // 160 + 1, at most 200 a window), stride-2 conv, pooling by 4."""
    total = 0
    for start in range(0, n, WINDOW_S * 16000):
        m = min(WINDOW_S * 16000, n - start)
        mel = min(WINDOW_S * 100, m // 160 + 1)
        total += ((mel - 1) // 2 + 1) // 4
    return total


@pytest.mark.parametrize("n", [16000, 45037], ids=["one-window", "two-windows"])
def test_roundtrip_shapes_bits_and_embeddings(fake_baichuan, rng, n):
    path_before = list(sys.path)
    modules_before = {"flash_attn", "deepspeed"} & set(sys.modules)
    codec = BaichuanCodec(get_spec("baichuan_nq8"))
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)

    enc = codec.encode(wav)
    frames = _expected_frames(n)
    assert frames == codec.frames_for(n) and frames == (12 if n == 16000 else 25 + 10)
    assert enc.codes.shape == (8, frames) and enc.codes.dtype == np.int64
    assert (enc.codes >= 0).all() and (enc.codes < np.array(SIZES)[:, None]).all()
    assert enc.n_bits == 86 * frames and enc.sample_rate == 16000
    assert enc.bitrate_kbps == pytest.approx(86 * frames / (n / 16000) / 1000)

    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, codec.decode(enc))  # seeded flow-matching / vocoder noise

    emb = codec.embed(wav)
    assert emb.shape == (frames, 8 * 4) and emb.dtype == np.float32  # d_model * avg_pooler
    books = [vq.codebook.embed.detach().numpy() for vq in codec.tokenizer.audio_bridge_model.vq_list]
    expected = sum(books[i][enc.codes[i]] for i in range(8))
    np.testing.assert_allclose(emb, expected, rtol=1e-5, atol=1e-5)

    assert sys.path == path_before
    assert {"flash_attn", "deepspeed"} & set(sys.modules) == modules_before


def test_short_input_gets_one_frame(fake_baichuan, conforms):
    codec = BaichuanCodec(get_spec("baichuan_nq8"))
    conforms(codec)
    wav = np.full(500, 0.05, dtype=np.float32)  # shorter than the 960 samples of one upstream frame
    enc = codec.encode(wav)
    assert enc.codes.shape == (8, 1) and codec.decode(enc).shape == (500,)


def test_spec_codebooks_must_match_checkpoint(fake_baichuan):
    spec = get_spec("baichuan_nq8")
    bad = CodecSpec(**{**spec.to_dict(), "options": {**spec.options, "codebook_sizes": [1024] * 8}})
    with pytest.raises(RuntimeError, match="checkpoint codebooks"):
        BaichuanCodec(bad)


def test_missing_paths_say_what_and_where(tmp_path, monkeypatch):
    spec = get_spec("baichuan_nq8")
    monkeypatch.delenv("CODECBENCH_BAICHUAN_DIR", raising=False)
    monkeypatch.delenv("CODECBENCH_BAICHUAN_CKPT", raising=False)
    with pytest.raises(MissingWeightsError, match="baichuan_nq8.*environment variable"):
        BaichuanCodec(spec)

    repo, ckpt = tmp_path / "Baichuan-Audio", tmp_path / "Baichuan-Audio-Base"
    repo.mkdir()
    monkeypatch.setenv("CODECBENCH_BAICHUAN_DIR", str(repo))
    monkeypatch.setenv("CODECBENCH_BAICHUAN_CKPT", str(ckpt))
    with pytest.raises(MissingWeightsError, match=r"checkpoint not found at .*Baichuan-Audio-Base; download "
                                                  r"https://huggingface\.co/baichuan-inc/Baichuan-Audio-Base"):
        BaichuanCodec(spec)
    ckpt.mkdir()
    with pytest.raises(MissingWeightsError, match=r"config\.json not found in checkpoint folder .*"
                                                  r"huggingface\.co/baichuan-inc/Baichuan-Audio-Base"):
        BaichuanCodec(spec)
    for name in ["config.json", "configuration_omni.py", "audio_modeling_omni.py", "vector_quantize.py"]:
        (ckpt / name).write_text("{}")
    assert "model.safetensors.index.json" in BaichuanCodec.available(spec)
    (ckpt / "model.safetensors.index.json").write_text("{}")
    reason = BaichuanCodec.available(spec)
    assert "cosy24k_vocoder.py" in reason and "github.com/baichuan-inc/Baichuan-Audio" in reason
    with pytest.raises(MissingWeightsError, match="nothere"):
        BaichuanCodec(spec, weights=tmp_path / "nothere")
    assert sys.path.count(str(repo)) == 0


def test_checkpoint_without_tokenizer_tensors(tmp_path, monkeypatch, checkouts):
    repo, ckpt = tmp_path / "Baichuan-Audio", tmp_path / "Baichuan-Audio-Base"
    _write_checkout(repo, checkouts)
    _write_checkpoint(ckpt, from_hidden=False, with_tokenizer=False)
    monkeypatch.setenv("CODECBENCH_BAICHUAN_DIR", str(repo))
    monkeypatch.setenv("CODECBENCH_BAICHUAN_CKPT", str(ckpt))
    assert BaichuanCodec.available(get_spec("baichuan_nq8")) is None
    try:
        with pytest.raises(MissingWeightsError, match=r"no 'audio_tokenizer\.\*' tensors"):
            BaichuanCodec(get_spec("baichuan_nq8"))
    finally:
        for name in [m for m in sys.modules if m.startswith("_codecbench_baichuan_")]:
            del sys.modules[name]
