"""SpeechTokenizer (Zhang et al., 2024): an RVQ codec whose first codebook is distilled from HuBERT.

16 kHz, hop 320 (50 Hz), 8 codebooks of 1024 (RVQ-1 semantic, 2-8 acoustic): ``n_q`` 8 is
4 kbps, ``n_q`` 1 the semantic tokens alone (0.5 kbps). ``embed`` is the quantized latent
the decoder consumes (``quantizer.decode`` of the first ``n_q`` codebooks), 1024 dims. The
convolutions are non-causal with symmetric padding (and the encoder's LSTM bidirectional), so
the output is aligned with the input; it is cut or zero-padded to the input's length.

The model code comes from the ``speechtokenizer`` package (1.0.1). Its ``__init__`` also
imports its training code, which needs torchaudio, beartype and lion-pytorch; inference needs
none of them, so the adapter imports the package's ``model`` module alone when the full import
fails, and the package is installed without its declared dependencies
(``pip install --no-deps speechtokenizer==1.0.1 einops``: its metadata would pull a torchaudio
built for another torch).

Weights: ``config.json`` + ``SpeechTokenizer.pt`` in ``options.weights`` (a folder) or in the
Hugging Face cache for ``options.repo`` under ``options.subfolder`` (``codecbench codecs fetch ID``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import check_audio, fit_length
from ..errors import CodecRuntimeError, MissingDependencyError, MissingWeightsError
from .base import Codec, CodecSpec, Encoded, expand_path
from .fetch import FetchPlan

__all__ = ["SpeechTokenizerCodec", "speechtokenizer_class"]

CHECKPOINT_FILES = ("config.json", "SpeechTokenizer.pt")
_INSTALL = "pip install --no-deps speechtokenizer==1.0.1 einops"


def speechtokenizer_class() -> Any:
    """``speechtokenizer.SpeechTokenizer``, importing only its model code when the package's training imports fail."""
    pkg = sys.modules.get("speechtokenizer")
    if pkg is not None and hasattr(pkg, "SpeechTokenizer"):
        return pkg.SpeechTokenizer
    spec = importlib.util.find_spec("speechtokenizer")
    if spec is None or importlib.util.find_spec("einops") is None:
        raise MissingDependencyError(f"SpeechTokenizer needs the packages 'speechtokenizer' and 'einops': {_INSTALL}")
    try:
        return importlib.import_module("speechtokenizer").SpeechTokenizer
    except ImportError:  # its trainer's imports (torchaudio, beartype): load the package without its __init__
        pkg = importlib.util.module_from_spec(spec)
        sys.modules["speechtokenizer"] = pkg
        model = importlib.import_module("speechtokenizer.model")
        pkg.SpeechTokenizer = model.SpeechTokenizer
        return model.SpeechTokenizer


def _folder(spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> Path:
    local = weights if weights is not None else spec.options.get("weights")
    repo, sub = spec.options.get("repo"), spec.options.get("subfolder", "")
    if local:
        folder = expand_path(local)
        if all((folder / f).is_file() for f in CHECKPOINT_FILES):
            return folder
        raise MissingWeightsError(f"codec '{spec.id}': no SpeechTokenizer checkpoint at {folder} (expected "
                                  f"{' + '.join(CHECKPOINT_FILES)})", codec_id=spec.id)
    if not repo:
        raise MissingWeightsError(f"codec '{spec.id}': its YAML names neither options.weights nor options.repo",
                                  codec_id=spec.id)
    from huggingface_hub import try_to_load_from_cache

    hits = [try_to_load_from_cache(repo, f"{sub}/{f}" if sub else f, revision=spec.options.get("revision"))
            for f in CHECKPOINT_FILES]
    if all(isinstance(h, str) for h in hits):
        return Path(hits[0]).parent
    raise MissingWeightsError(
        f"codec '{spec.id}': checkpoint '{repo}/{sub}' is not in the Hugging Face cache (expected "
        f"{' + '.join(CHECKPOINT_FILES)}); download it with `codecbench codecs fetch {spec.id}`, or set "
        f"options.weights in params/codecs/{spec.id}.yaml to a local copy", codec_id=spec.id)


class SpeechTokenizerCodec(Codec):
    """SpeechTokenizer through its package's model code; see the module docstring."""

    PACKAGES = ("speechtokenizer", "torch", "einops")

    def __init__(self, spec: CodecSpec, *, device: str = "cpu",
                 weights: str | os.PathLike[str] | None = None) -> None:
        super().__init__(spec, device=device)
        import torch

        cls = speechtokenizer_class()
        folder = _folder(spec, weights)
        model = cls(json.loads((folder / "config.json").read_text()))
        model.load_state_dict(torch.load(folder / "SpeechTokenizer.pt", map_location="cpu", weights_only=True))
        self._setup(model)

    @classmethod
    def from_model(cls, spec: CodecSpec, model: Any, *, device: str = "cpu") -> SpeechTokenizerCodec:
        """Wrap a built ``SpeechTokenizer`` (a tiny random one in tests); loads nothing."""
        self = cls.__new__(cls)
        Codec.__init__(self, spec, device=device)
        self._setup(model)
        return self

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        if importlib.util.find_spec("speechtokenizer") is None or importlib.util.find_spec("einops") is None:
            return f"packages 'speechtokenizer' and 'einops' are not installed: {_INSTALL}"
        try:
            _folder(spec)
        except MissingWeightsError as exc:
            return str(exc)
        return None

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan | None:
        """The checkpoint's two files from the pinned repo (it holds other checkpoints too)."""
        repo, sub = spec.options.get("repo"), spec.options.get("subfolder", "")
        if not repo:
            return None
        files = tuple(f"{sub}/{f}" if sub else f for f in CHECKPOINT_FILES)
        return FetchPlan(spec.id, hub_repo=str(repo), hub_revision=spec.options.get("revision"), hub_files=files)

    def _setup(self, model: Any) -> None:
        self.model = model.eval().to(self.device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.n_q = int(self.spec.n_q or model.n_q)
        if int(model.sample_rate) != int(self.sample_rate) or not 1 <= self.n_q <= int(model.n_q):
            raise CodecRuntimeError(f"codec '{self.id}': the checkpoint runs at {model.sample_rate} Hz with "
                                    f"{model.n_q} codebooks; the YAML asks {self.sample_rate} Hz and n_q {self.n_q}",
                                    codec_id=self.id)
        self.codebook_size = int(self.model.quantizer.vq.layers[0].codebook.shape[0])

    @property
    def hop_length(self) -> int:
        return int(self.model.downsample_rate)

    def _tensor(self, wav: np.ndarray) -> Any:
        import torch

        wav = check_audio(np.asarray(wav, dtype=np.float32), what=f"codec '{self.id}' input")
        return torch.from_numpy(wav)[None, None].to(self.device)

    def _codes(self, x: Any) -> Any:
        import torch

        with torch.inference_mode():
            return self.model.encode(x, n_q=self.n_q)  # (n_q, 1, frames)

    def encode(self, wav: np.ndarray) -> Encoded:
        """Codes ``(n_q, frames)`` int64 at 50 Hz."""
        x = self._tensor(wav)
        codes = self._codes(x)[:, 0].cpu().numpy().astype(np.int64)
        return Encoded(codes=codes, n_samples=int(x.shape[-1]), sample_rate=self.sample_rate,
                       n_bits=int(round(codes.size * math.log2(self.codebook_size))))

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        codes = torch.from_numpy(np.asarray(encoded.codes))[:, None].to(self.device)
        with torch.inference_mode():
            audio = self.model.decode(codes)[0, 0].float().cpu().numpy()
        return fit_length(audio, encoded.n_samples)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """The quantized latent of the first ``n_q`` codebooks, ``(frames, dimension)``."""
        import torch

        codes = self._codes(self._tensor(wav))
        with torch.inference_mode():
            z = self.model.quantizer.decode(codes)
        return np.ascontiguousarray(z[0].T.float().cpu().numpy(), dtype=np.float32)

    def close(self) -> None:
        self.model = None
