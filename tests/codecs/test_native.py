"""Repository-checkout adapters: path checks, missing-weights errors, and the BigCodec
plumbing against a miniature stand-in checkout written to tmp_path (same module names,
constructor and call signatures as upstream; random weights)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.bigcodec import BigCodecCodec
from codecbench_utils.codecs.checkout import option_path
from codecbench_utils.codecs.maskgct import MaskGCTCodec
from codecbench_utils.codecs.registry import get_spec
from codecbench_utils.errors import MissingWeightsError

torch = pytest.importorskip("torch")

FAKE_ENCODER = '''
import torch
from torch import nn


class CodecEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 16, kernel_size=200, stride=200)

    def forward(self, x):
        return self.conv(x)
'''

FAKE_DECODER = '''
import torch
from torch import nn


class _VQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.codebook = nn.Embedding(32, 16)

    def forward(self, x):  # (B, D, F) -> quantized (B, D, F), codes (n_q=1, B, F), loss
        d = torch.cdist(x.transpose(1, 2), self.codebook.weight[None])
        idx = d.argmin(-1)
        return self.codebook(idx).transpose(1, 2), idx[None], torch.zeros(1)

    def vq2emb(self, vq):  # (B, F, n_q) -> (B, F, D), as upstream's factorized VQ
        return self.codebook(vq[:, :, 0])


class CodecDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.quantizer = _VQ()
        self.up = nn.ConvTranspose1d(16, 1, kernel_size=200, stride=200)

    def forward(self, x, vq=True):
        if vq:
            return self.quantizer(x)
        return self.up(x)

    def vq2emb(self, vq):
        return self.quantizer.vq2emb(vq)
'''


@pytest.fixture
def fake_bigcodec(tmp_path, checkouts):
    repo = tmp_path / "BigCodec"
    checkouts.write_tree(repo, {"vq/__init__.py": "", "vq/codec_encoder.py": FAKE_ENCODER, "vq/codec_decoder.py": FAKE_DECODER})
    with checkouts.importable(repo, packages=("vq",)):
        from vq.codec_decoder import CodecDecoder
        from vq.codec_encoder import CodecEncoder

        torch.manual_seed(0)
        ckpt = {"CodecEnc": CodecEncoder().state_dict(), "generator": CodecDecoder().state_dict()}
    torch.save(ckpt, tmp_path / "bigcodec.pt")
    yield repo, tmp_path / "bigcodec.pt"
    checkouts.forget_modules("vq")


def test_bigcodec_adapter_roundtrip(fake_bigcodec, rng, monkeypatch, conforms):
    repo, ckpt = fake_bigcodec
    monkeypatch.setenv("CODECBENCH_BIGCODEC_DIR", str(repo))
    spec = CodecSpec(**{**get_spec("bigcodec").to_dict(), "embedding_dim": 16})
    codec = BigCodecCodec(spec, weights=ckpt)
    conforms(codec)
    n = 16000 // 4 + 37
    wav = (0.1 * rng.standard_normal(n)).astype(np.float32)
    enc = codec.encode(wav)
    frames = n // 200 + 1  # upstream always pads at least one sample
    assert enc.codes.shape == (1, frames) and enc.codes.dtype == np.int64
    assert enc.n_bits == 13 * frames
    assert enc.bitrate_kbps == pytest.approx(13 * frames / (n / 16000) / 1000)
    out = codec.decode(enc)
    assert out.shape == (n,) and out.dtype == np.float32
    emb = codec.embed(wav)
    assert emb.shape == (frames, 16)
    # the embedding is the codebook vector of each code
    np.testing.assert_allclose(emb, codec.decoder.quantizer.codebook.weight[enc.codes[0]].detach().numpy(),
                               rtol=1e-6)
    assert "vq" not in [p.rstrip("/").rsplit("/", 1)[-1] for p in sys.path]


def test_missing_checkout_and_checkpoint(tmp_path, monkeypatch):
    monkeypatch.delenv("CODECBENCH_BIGCODEC_DIR", raising=False)
    spec = get_spec("bigcodec")
    with pytest.raises(MissingWeightsError, match="bigcodec.*environment variable"):
        BigCodecCodec(spec)
    assert "environment variable" in BigCodecCodec.available(spec)
    monkeypatch.setenv("CODECBENCH_BIGCODEC_DIR", str(tmp_path))
    with pytest.raises(MissingWeightsError, match=r"bigcodec': checkpoint not found at .*bigcodec\.pt; "
                                                  r"download bigcodec\.pt from https://huggingface\.co/Alethia"):
        BigCodecCodec(spec)
    with pytest.raises(MissingWeightsError, match="nothere.pt"):
        BigCodecCodec(spec, weights=tmp_path / "nothere.pt")


def test_maskgct_names_files_expected(monkeypatch, tmp_path):
    monkeypatch.setenv("CODECBENCH_AMPHION_DIR", str(tmp_path))
    monkeypatch.setenv("CODECBENCH_MASKGCT_DIR", str(tmp_path / "MaskGCT"))
    reason = MaskGCTCodec.available(get_spec("maskgct_nq8"))
    assert "acoustic_codec/model.safetensors" in reason and "amphion/MaskGCT" in reason


def test_option_path_expands(monkeypatch, tmp_path):
    monkeypatch.setenv("CB_TEST_DIR", str(tmp_path))
    spec = CodecSpec(id="x", family="t", backend="bigcodec", sample_rate=16000,
                     options={"checkpoint": "${CB_TEST_DIR}/a.pt"})
    assert option_path(spec, "checkpoint") == tmp_path / "a.pt"
    with pytest.raises(MissingWeightsError, match="options.repo_dir is not set"):
        option_path(spec, "repo_dir")
