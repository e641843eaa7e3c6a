"""FlowDec adapter against a miniature stand-in: a FlowDec checkout (``flowdec.model.FlowModel``
built from ``config/flowdec_75m.yaml``), plus the third-party packages it is driven through
(``dac`` = descript-audio-codec 1.0.0, ``hydra``, ``torchcfm``), all written to tmp_path with the
upstream module paths, class names, constructor and call signatures, tiny random weights, and
checkpoints in the upstream formats and layout of ``checkpoints.zip``."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.flowdec import FlowDecCodec
from codecbench_utils.codecs.registry import get_spec
from codecbench_utils.errors import MissingDependencyError, MissingWeightsError

torch = pytest.importorskip("torch")

# --- third-party stand-ins ----------------------------------------------------------------------

HYDRA_INIT = '''
import os

import yaml

from .core.global_hydra import GlobalHydra


class initialize_config_dir:
    def __init__(self, config_dir, job_name="app", version_base=None):
        if not os.path.isabs(config_dir):
            raise ValueError("initialize_config_dir() requires an absolute config_dir as input")
        gh = GlobalHydra.instance()
        if gh.is_initialized():
            raise ValueError("GlobalHydra is already initialized, call GlobalHydra.instance().clear() "
                             "if you want to re-initialize")
        gh.config_dir = config_dir

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        GlobalHydra.instance().clear()


def compose(config_name=None, overrides=None, return_hydra_config=False):
    gh = GlobalHydra.instance()
    assert gh.is_initialized(), "compose() outside initialize"
    with open(os.path.join(gh.config_dir, config_name + ".yaml")) as f:
        return yaml.safe_load(f)
'''

HYDRA_GLOBAL = '''
class GlobalHydra:
    _instance = None

    def __init__(self):
        self.config_dir = None

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def is_initialized(self):
        return self.config_dir is not None

    def clear(self):
        self.config_dir = None
'''

HYDRA_ERRORS = '''
class InstantiationException(Exception):
    pass
'''

HYDRA_UTILS = '''
import importlib

from .errors import InstantiationException


def _locate(path):
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as e:  # as Hydra 1.3 does
        raise InstantiationException(f"Error locating target '{path}'") from e


def instantiate(config, *args, **kwargs):
    if isinstance(config, list):
        return [instantiate(c) for c in config]
    if not isinstance(config, dict):
        return config
    config = {**config, **kwargs}
    if "_target_" not in config:
        return {k: instantiate(v) for k, v in config.items()}
    target = _locate(config.pop("_target_"))
    return target(*args, **{k: instantiate(v) for k, v in config.items()})
'''

TORCHCFM = '''
class ConditionalFlowMatcher:
    def __init__(self, sigma=0.0):
        self.sigma = sigma
'''

DAC_QUANTIZE = '''
import torch
import torch.nn.functional as F
from torch import nn


class VectorQuantize(nn.Module):
    def __init__(self, input_dim, codebook_size, codebook_dim):
        super().__init__()
        self.codebook_size = codebook_size
        self.codebook_dim = codebook_dim
        self.in_proj = nn.Conv1d(input_dim, codebook_dim, kernel_size=1)
        self.out_proj = nn.Conv1d(codebook_dim, input_dim, kernel_size=1)
        self.codebook = nn.Embedding(codebook_size, codebook_dim)

    def forward(self, z):
        z_e = self.in_proj(z)
        z_q, indices = self.decode_latents(z_e)
        loss = torch.zeros(z.shape[0])
        return self.out_proj(z_q), loss, loss, indices, z_e

    def decode_code(self, embed_id):
        return F.embedding(embed_id, self.codebook.weight).transpose(1, 2)

    def decode_latents(self, latents):
        enc = F.normalize(latents.transpose(1, 2), dim=-1)  # (B, T, d)
        cb = F.normalize(self.codebook.weight, dim=-1)
        indices = (enc @ cb.T).argmax(-1)  # nearest l2-normalized entry
        return self.decode_code(indices), indices


class ResidualVectorQuantize(nn.Module):
    def __init__(self, input_dim=512, n_codebooks=9, codebook_size=1024, codebook_dim=8, quantizer_dropout=0.0):
        super().__init__()
        self.n_codebooks = n_codebooks
        self.quantizers = nn.ModuleList(
            [VectorQuantize(input_dim, codebook_size, codebook_dim) for _ in range(n_codebooks)])

    def forward(self, z, n_quantizers=None):
        n_quantizers = self.n_codebooks if n_quantizers is None else n_quantizers
        z_q, residual, codes, latents = 0, z, [], []
        for i, quantizer in enumerate(self.quantizers):
            if i >= n_quantizers:
                break
            z_q_i, _, _, indices_i, z_e_i = quantizer(residual)
            z_q = z_q + z_q_i
            residual = residual - z_q_i
            codes.append(indices_i)
            latents.append(z_e_i)
        zero = torch.zeros(())
        return z_q, torch.stack(codes, dim=1), torch.cat(latents, dim=1), zero, zero

    def from_codes(self, codes):
        z_q, z_p = 0.0, []
        for i in range(codes.shape[1]):
            z_p_i = self.quantizers[i].decode_code(codes[:, i, :])
            z_p.append(z_p_i)
            z_q = z_q + self.quantizers[i].out_proj(z_p_i)
        return z_q, torch.cat(z_p, dim=1), codes
'''

DAC_MODEL = '''
import inspect
import math

import numpy as np
import torch
from torch import nn

from ..nn.quantize import ResidualVectorQuantize


class DAC(nn.Module):
    def __init__(self, encoder_dim=64, encoder_rates=[2, 4, 8, 8], latent_dim=None, decoder_dim=1536,
                 decoder_rates=[8, 8, 4, 2], n_codebooks=9, codebook_size=1024, codebook_dim=8,
                 quantizer_dropout=False, sample_rate=44100):
        super().__init__()
        if latent_dim is None:
            latent_dim = encoder_dim * (2 ** len(encoder_rates))
        self.sample_rate = sample_rate
        self.latent_dim = latent_dim
        self.hop_length = np.prod(encoder_rates)
        self.n_codebooks = n_codebooks
        self.codebook_size = codebook_size
        hop = int(self.hop_length)
        self.encoder = nn.Conv1d(1, latent_dim, kernel_size=hop, stride=hop)
        self.quantizer = ResidualVectorQuantize(latent_dim, n_codebooks, codebook_size, codebook_dim,
                                                quantizer_dropout)
        self.decoder = nn.ConvTranspose1d(latent_dim, 1, kernel_size=hop, stride=hop)

    @classmethod
    def load(cls, location, *args, package_name=None, strict=False, **kwargs):
        model_dict = torch.load(location, "cpu")
        kw = {k: v for k, v in {**model_dict["metadata"]["kwargs"], **kwargs}.items()
              if k in inspect.signature(cls).parameters}
        model = cls(*args, **kw)
        model.load_state_dict(model_dict["state_dict"], strict=strict)
        model.metadata = model_dict["metadata"]
        return model

    def preprocess(self, audio_data, sample_rate):
        if sample_rate is None:
            sample_rate = self.sample_rate
        assert sample_rate == self.sample_rate
        length = audio_data.shape[-1]
        right_pad = math.ceil(length / self.hop_length) * self.hop_length - length
        return nn.functional.pad(audio_data, (0, int(right_pad)))

    def encode(self, audio_data, n_quantizers=None):
        assert audio_data.ndim == 3 and audio_data.shape[1] == 1, "DAC wants (B, 1, T)"
        z = self.encoder(audio_data)
        return self.quantizer(z, n_quantizers)

    def decode(self, z):
        return nn.functional.pad(self.decoder(z), (0, 7))  # a few samples longer, like the real decoder
'''

# --- FlowDec checkout stand-in ------------------------------------------------------------------

FLOWDEC_MODEL = '''
import abc

import torch
import torch.nn as nn


class EnhancementModel(abc.ABC, nn.Module):
    def __init__(self, backbone, feature_extractor, sampling_rate, lr, normalize_mode="noisy",
                 optimizer_init=None, datamodule=None, eval_metrics=None, eval_variants=None,
                 num_eval_files=20, full_config=None, evaluation_seed=None):
        super().__init__()
        self.sampling_rate = sampling_rate
        self.normalize_mode = normalize_mode
        self.lr = lr
        self.backbone = backbone
        self.feature_extractor = feature_extractor

    @property
    def device(self):
        return next(self.parameters()).device

    @abc.abstractmethod
    def enhance(self, corrupt_batch, **kwargs):
        pass


class FlowModel(EnhancementModel):
    strict_loading = False

    def __init__(self, flow_matcher, sigma_x, sigma_y, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flow_matcher = flow_matcher
        self.sigma_x = nn.Parameter(torch.tensor(float(sigma_x)), requires_grad=False)
        self.sigma_y = nn.Parameter(torch.tensor(float(sigma_y)), requires_grad=False)
        self.calls = []

    def forward(self, xt, y, t):
        if t.ndim == 0:
            t = t.unsqueeze(0)
        return self.backbone(xt, y, t)

    def enhance(self, y, return_preprocess_info=False, N=50, solver="euler", with_grad=False,
                sigma_fac=1.0, return_traj=False, **kwargs):
        assert solver in ("euler", "midpoint"), solver
        self.calls.append({"N": N, "solver": solver, "shape": tuple(y.shape)})
        normfac = y.abs().amax(dim=-1, keepdim=True).clamp_min(1e-8)
        Y = y.to(self.device) / normfac
        x = Y + sigma_fac * self.sigma_y * torch.randn_like(Y)
        ts = torch.linspace(0, 1, N + 1)
        for t0, t1 in zip(ts[:-1], ts[1:]):
            dt = t1 - t0
            if solver == "euler":
                x = x + dt * self(x, Y, t0)
            else:
                x = x + dt * self(x + dt / 2 * self(x, Y, t0), Y, t0 + dt / 2)
        return (x * normfac).to(y.device)
'''

FLOWDEC_NCSNPP = '''
import torch
from torch import nn


class NCSNpp(nn.Module):
    def __init__(self, nf=64, num_channels=4, **unused_kwargs):
        super().__init__()
        self.conv = nn.Conv1d(2, 1, kernel_size=5, padding=2)

    def forward(self, x, y, time_cond):
        return self.conv(torch.cat([x, y], dim=1)) * (1 + time_cond.reshape(-1, 1, 1))
'''

FLOWDEC_CONFIG = '''
model:
  _target_: flowdec.model.FlowModel
  sampling_rate: 48000
  lr: 1.0e-4
  sigma_x: 0.0
  sigma_y: 0.05
  flow_matcher:
    _target_: torchcfm.ConditionalFlowMatcher
    sigma: 0.0
  backbone:
    _target_: flowdec.backbones.ncsnpp.NCSNpp
    nf: 4
  feature_extractor: null
sampling_rate: 48000
'''

DAC_KWARGS = {"encoder_dim": 1, "encoder_rates": [2, 4, 8, 10], "latent_dim": 16, "decoder_dim": 8,
              "decoder_rates": [10, 8, 4, 2], "n_codebooks": 12, "codebook_size": 1024, "codebook_dim": 4,
              "quantizer_dropout": False, "sample_rate": 48000}
_STAND_INS = ("flowdec", "dac", "hydra", "torchcfm")


@pytest.fixture
def fake_flowdec(tmp_path, monkeypatch, checkouts):
    """(repo, checkpoints root, site) with the stand-in packages importable from site."""
    repo, site, ckpts = tmp_path / "FlowDec", tmp_path / "site", tmp_path / "checkpoints"
    checkouts.write_tree(repo, {"flowdec/__init__.py": "", "flowdec/model.py": FLOWDEC_MODEL,
                  "flowdec/backbones/ncsnpp.py": FLOWDEC_NCSNPP, "config/flowdec_75m.yaml": FLOWDEC_CONFIG})
    checkouts.write_tree(site, {"hydra/__init__.py": HYDRA_INIT, "hydra/utils.py": HYDRA_UTILS,
                  "hydra/errors.py": HYDRA_ERRORS, "hydra/core/__init__.py": "",
                  "hydra/core/global_hydra.py": HYDRA_GLOBAL, "torchcfm/__init__.py": TORCHCFM,
                  "dac/__init__.py": "from .model import DAC\n", "dac/model/__init__.py": "from .dac import DAC\n",
                  "dac/model/dac.py": DAC_MODEL, "dac/nn/__init__.py": "", "dac/nn/quantize.py": DAC_QUANTIZE})
    with checkouts.importable(repo, site, packages=_STAND_INS):
        from dac import DAC
        from flowdec.backbones.ncsnpp import NCSNpp
        from flowdec.model import FlowModel
        from torchcfm import ConditionalFlowMatcher

        torch.manual_seed(0)
        dac_model = DAC(**DAC_KWARGS)
        flow = [FlowModel(ConditionalFlowMatcher(), 0.0, 0.05, backbone=NCSNpp(), feature_extractor=None,
                          sampling_rate=48000, lr=1e-4) for _ in range(2)]
    (ckpts / "ndac/ndac-75/800k/dac").mkdir(parents=True)
    torch.save({"state_dict": dac_model.state_dict(), "metadata": {"kwargs": DAC_KWARGS}},
               ckpts / "ndac/ndac-75/800k/dac/weights.pth")
    (ckpts / "flowdec/flowdec_75m").mkdir(parents=True)
    # a Lightning checkpoint: plain and EMA weights (they differ), hyper-parameters, step
    torch.save({"state_dict": flow[0].state_dict(), "_pl_ema_state_dict": flow[1].state_dict(),
                "hyper_parameters": {"sampling_rate": 48000}, "global_step": 800000, "epoch": 0},
               ckpts / "flowdec/flowdec_75m/step=800000.ckpt")
    monkeypatch.syspath_prepend(str(site))  # third-party packages are installed, the checkout is not
    monkeypatch.setenv("CODECBENCH_FLOWDEC_DIR", str(repo))
    monkeypatch.setenv("CODECBENCH_FLOWDEC_CKPT", str(ckpts))
    yield repo, ckpts, site, flow[1].state_dict()
    checkouts.forget_modules(*_STAND_INS)


def _spec(name="flowdec_nq8", **options):
    spec = get_spec(name)
    return CodecSpec(**{**spec.to_dict(), "options": {**spec.options, **options}})


def test_flowdec_roundtrip(fake_flowdec, rng, conforms):
    repo, _, _, ema = fake_flowdec
    before = list(sys.path)
    codec = FlowDecCodec(_spec())
    conforms(codec)
    assert sys.path == before and str(repo) not in sys.path
    n = 48000 // 4 + 37
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    enc = codec.encode(wav)
    frames = -(-n // 640)  # DAC.preprocess right-pads to whole 640-sample frames
    assert enc.codes.shape == (8, frames) and enc.codes.dtype == np.int64
    assert enc.codes.min() >= 0 and enc.codes.max() < 1024
    assert enc.n_bits == 8 * 10 * frames and enc.sample_rate == 48000
    assert enc.bitrate_kbps == pytest.approx(8 * 10 * frames / (n / 48000) / 1000)
    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32 and np.all(np.isfinite(out))
    assert np.abs(out).max() <= 1.0
    np.testing.assert_array_equal(out, codec.decode(enc))  # seeded postfilter noise
    # n_steps and the default solver reach FlowModel.enhance, which got the NDAC output (B, 1, T)
    call = codec.flow.calls[-1]
    assert (call["N"], call["solver"]) == (6, "midpoint") and call["shape"][:2] == (1, 1)
    assert call["shape"][2] >= frames * 640
    # the EMA weights were loaded
    for key, value in ema.items():
        torch.testing.assert_close(codec.flow.state_dict()[key], value)
    res = codec.resynthesize(wav)
    assert res.wav.shape == (n,) and res.bitrate_kbps == pytest.approx(enc.bitrate_kbps)


def test_flowdec_embed_is_sum_of_first_nq_codebooks(fake_flowdec, rng):
    codec = FlowDecCodec(_spec("flowdec_nq10"))
    n = 3 * 640 + 1
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    enc = codec.encode(wav)
    assert enc.codes.shape == (10, 4) and enc.n_bits == 10 * 10 * 4
    emb = codec.embed(wav)
    assert emb.shape == (4, 16) and emb.dtype == np.float32
    expected = np.zeros((4, 16), dtype=np.float32)
    for i, q in enumerate(codec.dac.quantizer.quantizers[:10]):
        vec = q.codebook.weight[torch.as_tensor(enc.codes[i])].detach().numpy()  # (F, codebook_dim)
        w, b = q.out_proj.weight[:, :, 0].detach().numpy(), q.out_proj.bias.detach().numpy()
        expected += vec @ w.T + b
    np.testing.assert_allclose(emb, expected, rtol=1e-5, atol=1e-5)
    assert codec.decode(enc).shape == (n,)


def test_flowdec_options_and_checkpoint_file(fake_flowdec, rng, monkeypatch):
    _, ckpts, _, _ = fake_flowdec
    monkeypatch.setenv("CODECBENCH_FLOWDEC_CKPT", str(ckpts / "flowdec/flowdec_75m/step=800000.ckpt"))
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().config_dir = "/elsewhere"  # someone else initialized Hydra
    codec = FlowDecCodec(_spec(n_steps=2, solver="euler", seed=None))
    assert codec.paths["dac_weights"] == ckpts / "ndac/ndac-75/800k/dac/weights.pth"
    wav = (0.1 * rng.standard_normal(1000)).astype(np.float32)
    assert codec.decode(codec.encode(wav)).shape == (1000,)
    assert codec.flow.calls[-1]["N"] == 2 and codec.flow.calls[-1]["solver"] == "euler"
    assert not GlobalHydra.instance().is_initialized()


def test_flowdec_missing_paths(tmp_path, monkeypatch):
    monkeypatch.delenv("CODECBENCH_FLOWDEC_DIR", raising=False)
    monkeypatch.delenv("CODECBENCH_FLOWDEC_CKPT", raising=False)
    spec = get_spec("flowdec_nq8")
    with pytest.raises(MissingWeightsError, match="flowdec_nq8.*environment variable"):
        FlowDecCodec(spec)
    monkeypatch.setenv("CODECBENCH_FLOWDEC_DIR", str(tmp_path / "nothere"))
    monkeypatch.setenv("CODECBENCH_FLOWDEC_CKPT", str(tmp_path))
    with pytest.raises(MissingWeightsError, match=r"repo_dir not found .*clone https://github\.com/facebookresearch"):
        FlowDecCodec(spec)
    monkeypatch.setenv("CODECBENCH_FLOWDEC_DIR", str(tmp_path))
    monkeypatch.setenv("CODECBENCH_FLOWDEC_CKPT", str(tmp_path / "checkpoints"))
    with pytest.raises(MissingWeightsError, match=r"checkpoint not found .*checkpoints\.zip"):
        FlowDecCodec(spec)
    (tmp_path / "checkpoints").mkdir()
    reason = FlowDecCodec.available(spec)
    assert "flowdec_nq8" in reason and "flowdec/flowdec_75m/step=800000.ckpt" in reason
    assert "releases/download/checkpoints/checkpoints.zip" in reason
    (tmp_path / "checkpoints/flowdec/flowdec_75m").mkdir(parents=True)
    (tmp_path / "checkpoints/flowdec/flowdec_75m/step=800000.ckpt").write_bytes(b"")
    with pytest.raises(MissingWeightsError, match=r"dac_weights not found .*ndac/ndac-75/800k/dac/weights\.pth"):
        FlowDecCodec(spec)
    (tmp_path / "checkpoints/ndac/ndac-75/800k/dac").mkdir(parents=True)
    (tmp_path / "checkpoints/ndac/ndac-75/800k/dac/weights.pth").write_bytes(b"")
    assert FlowDecCodec.available(spec) is None


@pytest.mark.skipif(importlib.util.find_spec("dac") is not None, reason="descript-audio-codec is installed")
def test_flowdec_missing_dependency(fake_flowdec, monkeypatch, checkouts):
    _, _, site, _ = fake_flowdec
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(site)])
    checkouts.forget_modules(*_STAND_INS)
    with pytest.raises(MissingDependencyError, match="cannot import dac.*descript-audio-codec"):
        FlowDecCodec(_spec())


def test_flowdec_missing_dependency_of_checkout(fake_flowdec):
    _, _, site, _ = fake_flowdec
    (site / "torchcfm" / "__init__.py").unlink()
    (site / "torchcfm").rmdir()
    with pytest.raises(MissingDependencyError, match="torchcfm.*requirements.txt"):
        FlowDecCodec(_spec())
