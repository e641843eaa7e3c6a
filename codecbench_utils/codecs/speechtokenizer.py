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
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import CodecRuntimeError, MissingDependencyError
from .base import Encoded
from .model_codec import ModelCodec

__all__ = ["SpeechTokenizerCodec", "speechtokenizer_class"]

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


class SpeechTokenizerCodec(ModelCodec):
    """SpeechTokenizer through its package's model code; see the module docstring."""

    PACKAGES = ("speechtokenizer", "torch", "einops")
    REQUIRES = ("speechtokenizer", "einops")
    INSTALL = _INSTALL
    CHECKPOINT_FILES = ("config.json", "SpeechTokenizer.pt")

    def _build(self, folder: Path) -> Any:
        import torch

        model = speechtokenizer_class()(json.loads((folder / "config.json").read_text()))
        model.load_state_dict(torch.load(folder / "SpeechTokenizer.pt", map_location="cpu", weights_only=True))
        return model

    def _setup(self, model: Any) -> None:
        self.model = self._freeze(model)
        self.n_q = int(self.spec.n_q or model.n_q)
        if int(model.sample_rate) != int(self.sample_rate) or not 1 <= self.n_q <= int(model.n_q):
            raise CodecRuntimeError(f"codec '{self.id}': the checkpoint runs at {model.sample_rate} Hz with "
                                    f"{model.n_q} codebooks; the YAML asks {self.sample_rate} Hz and n_q {self.n_q}",
                                    codec_id=self.id)
        self.codebook_size = int(self.model.quantizer.vq.layers[0].codebook.shape[0])

    @property
    def hop_length(self) -> int:
        return int(self.model.downsample_rate)

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
