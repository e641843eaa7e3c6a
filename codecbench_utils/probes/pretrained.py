"""Features from pretrained speech models, for the probes' baseline rows: Whisper's encoder and SSL layers.

``whisper:<model>``
    The encoder output of a Whisper model (the paper's Table 5 baseline row is
    ``whisper:small``), 50 frames/s, ``d_model`` wide. Whisper's encoder reads 30-s windows;
    longer items are cut into windows and the outputs concatenated, and the frames past the
    item's end are dropped.
``ssl:<model>@<layer>``
    The hidden states after transformer layer ``<layer>`` (0 = the CNN features after
    projection) of a HuBERT / WavLM / wav2vec 2.0 model, 50 frames/s.

``<model>`` is a short name (``small``, ``hubert-base``, ...; see :data:`WHISPER_MODELS` and
:data:`SSL_MODELS`), a Hugging Face repo id already in the local cache, or a local folder.
Nothing is downloaded here: a missing model is an error naming the ``hf download`` line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..audio import check_audio
from ..codecs.fingerprint import model_fingerprint
from ..errors import InvalidAudioError, MissingWeightsError, require

__all__ = ["WHISPER_MODELS", "SSL_MODELS", "PRETRAINED_SR", "WhisperEncoderFeatures", "SSLFeatures", "resolve_model",
           "pretrained_missing"]

PRETRAINED_SR = 16000
WHISPER_MODELS = {size: f"openai/whisper-{size}" for size in ("tiny", "base", "small", "medium", "large-v3")}
SSL_MODELS = {
    "hubert-base": "facebook/hubert-base-ls960",
    "hubert-large": "facebook/hubert-large-ll60k",
    "wavlm-base-plus": "microsoft/wavlm-base-plus",
    "wavlm-large": "microsoft/wavlm-large",
    "wav2vec2-base": "facebook/wav2vec2-base",
    "wav2vec2-large": "facebook/wav2vec2-large-lv60",
}


def resolve_model(name: str, table: dict[str, str]) -> str:
    """A short name's Hugging Face repo id, or ``name`` itself (a repo id or a local folder)."""
    return table.get(name, name)


def pretrained_missing(kind: str, model: str) -> str | None:
    """Why a ``whisper:``/``ssl:`` model cannot load here (None: a local folder or the Hub cache has it)."""
    from pathlib import Path

    from huggingface_hub import try_to_load_from_cache

    source = resolve_model(model, WHISPER_MODELS if kind == "whisper" else SSL_MODELS)
    if (Path(source) / "config.json").is_file() or isinstance(try_to_load_from_cache(source, "config.json"), str):
        return None
    return f"no local copy of '{source}'; get it with `hf download {source}`"


def _load(loader: Any, source: str, what: str) -> Any:
    try:
        return loader.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:  # not on disk / in the cache, or not a repo id
        raise MissingWeightsError(f"feature source '{what}': no local copy of '{source}' ({type(exc).__name__}); get "
                                  f"it with `hf download {source}`, or name a local folder") from exc


def _check(wav: np.ndarray, sr: int, what: str) -> np.ndarray:
    if sr != PRETRAINED_SR:
        raise InvalidAudioError(f"{what}: needs {PRETRAINED_SR} Hz audio, got {sr}")
    return check_audio(wav, what=what)


class WhisperEncoderFeatures:
    """Whisper's encoder output, ``(frames, d_model)`` at 50 frames/s."""

    frame_rate = 50.0

    def __init__(self, model: str, *, device: str = "cpu") -> None:
        tf = require("transformers", "transformers", purpose="whisper: feature sources")
        self.source = resolve_model(model, WHISPER_MODELS)
        self.name = f"whisper:{model}"
        self.processor = _load(tf.WhisperFeatureExtractor, self.source, self.name)
        self.model = _load(tf.WhisperModel, self.source, self.name).get_encoder().eval().to(device)
        self.device = device
        self.dim = int(self.model.config.d_model)
        self.window = int(self.processor.n_samples)  # 30 s
        self.fingerprint = f"whisper-{model_fingerprint(self.model, self.source, 'whisper encoder')}"

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        import torch

        x = _check(wav, sr, self.name)
        hop = PRETRAINED_SR // int(self.frame_rate)
        parts = []
        for start in range(0, x.size, self.window):
            piece = x[start:start + self.window]
            feats = self.processor(piece, sampling_rate=sr, return_tensors="pt").input_features.to(self.device)
            with torch.inference_mode():
                out = self.model(feats).last_hidden_state[0].float().cpu().numpy()
            parts.append(out[: -(-piece.size // hop)])  # frames that cover the piece, not its padding
        return np.concatenate(parts).astype(np.float32)

    def close(self) -> None:
        self.model = None


class SSLFeatures:
    """Hidden states of one layer of a HuBERT / WavLM / wav2vec 2.0 model, ``(frames, hidden_size)``."""

    frame_rate = 50.0

    def __init__(self, model: str, layer: int, *, device: str = "cpu") -> None:
        tf = require("transformers", "transformers", purpose="ssl: feature sources")
        self.source = resolve_model(model, SSL_MODELS)
        self.name = f"ssl:{model}@{layer}"
        self.model = _load(tf.AutoModel, self.source, self.name).eval().to(device)
        n_layers = int(self.model.config.num_hidden_layers)
        if not 0 <= layer <= n_layers:
            from ..errors import ConfigError

            raise ConfigError(f"feature source '{self.name}': layer {layer} out of range 0..{n_layers}")
        self.layer, self.device = layer, device
        self.dim = int(self.model.config.hidden_size)
        self.normalize = bool(getattr(self.model.config, "feat_extract_norm", "") == "layer")
        self.fingerprint = f"ssl-{model_fingerprint(self.model, self.source, ['ssl layer', layer])}"

    def __call__(self, wav: np.ndarray, sr: int) -> np.ndarray:
        import torch

        x = _check(wav, sr, self.name)
        if self.normalize:  # what the models' feature extractors do for the layer-norm variants
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        with torch.inference_mode():
            out = self.model(torch.from_numpy(x)[None].to(self.device), output_hidden_states=True)
        return out.hidden_states[self.layer][0].float().cpu().numpy().astype(np.float32)

    def close(self) -> None:
        self.model = None
