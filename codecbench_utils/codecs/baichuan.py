"""Baichuan-Audio's audio tokenizer as a codec (github.com/baichuan-inc/Baichuan-Audio).

Two local folders are needed, nothing is downloaded:

* ``options.checkpoint`` (or ``weights=``): a snapshot of huggingface.co/baichuan-inc/Baichuan-Audio-Base.
  Its remote code holds the tokenizer: ``configuration_omni.py`` (``OmniConfig``), ``audio_modeling_omni.py``
  (``OmniAudioEncoder``, ``OmniAudioVQBridgeTokenizer``, ``OmniAudioDecoder``, ``OmniAudioFlowMatchingDecoder``),
  ``vector_quantize.py`` and ``flow_matching.py``. The weights are the ``audio_tokenizer.*`` tensors of the LLM
  checkpoint (``model*.safetensors`` + ``model.safetensors.index.json``), i.e. the ``OmniAudioTokenizer``
  submodule of ``OmniForCausalLM`` (``modeling_omni.py``).
* ``options.repo_dir``: a clone of the GitHub repository, whose ``third_party/cosy24k_vocoder``
  (``cosy24k_vocoder.Cosy24kVocoder`` + ``hift.pt``, CosyVoice 2's HiFT vocoder) turns mels into 24 kHz audio.

Encoding follows ``processor_omni.OmniAudioProcessor`` (Whisper log-mel: ``n_fft``, ``hop_length``,
``num_mel_bins`` of the config's ``audio_config``, audio right-padded to ``max_audio_seconds`` before the
STFT; ``inference_output_length`` for the encoder and bridge lengths), then
``OmniAudioTokenizer.encode``: ``OmniAudioEncoder(mels, encoder_length)`` ->
``OmniAudioVQBridgeTokenizer(emb, bridge_length)``, which gives ``(frames, 8)`` codes at 12.5 Hz
(100 Hz mels, stride-2 conv, ``avg_pooler`` 4). Inputs longer than ``max_audio_seconds`` are cut into
consecutive windows of that length (upstream overlaps them; a codec must not).

Decoding mirrors ``OmniAudioTokenizer.decode`` + ``web_demo/generation.py:decode_wave_vocoder``:
``bridge.decode(codes)`` -> ``OmniAudioDecoder`` -> ``OmniAudioFlowMatchingDecoder`` (its
``diffusion_steps`` from ``flow_matching_config``) -> ``Cosy24kVocoder.decode`` at 24 kHz, resampled to
16 kHz with :func:`codecbench_utils.audio.resample` and fitted to the input length. The flow-matching
noise and the vocoder's source noise are drawn from a fixed seed (``options.seed``, default 0), so
decoding is repeatable.

``embed`` returns ``OmniAudioVQBridgeTokenizer.recover(codes)``: the sum of the 8 dequantized codebook
vectors, ``(frames, d_model * avg_pooler)`` at 12.5 Hz (the bridge's ``intermediate_dim``; 5120 for a
1280-wide Whisper encoder), i.e. the RVQ latent before ``proj_decoder``.

Upstream's attention calls ``flash_attn.flash_attn_varlen_func`` and its bridge registers parameters with
``deepspeed``; where those packages are missing (or the device is not CUDA) an equivalent
``torch.nn.functional.scaled_dot_product_attention`` over each packed sequence is used and ``deepspeed``
is replaced by a no-op while the module is imported. ``options.dtype`` defaults to ``bfloat16`` on CUDA
(as upstream runs it) and ``float32`` elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import check_audio, fit_length, resample
from ..errors import CodecRuntimeError, MissingDependencyError, MissingWeightsError
from .base import CodecSpec, Encoded
from .checkout import RepoCheckoutCodec

__all__ = ["BaichuanCodec"]

_HF = "https://huggingface.co/baichuan-inc/Baichuan-Audio-Base"
_GH = "https://github.com/baichuan-inc/Baichuan-Audio"
#: key prefix of the tokenizer inside the LLM checkpoint (``OmniForCausalLM.audio_tokenizer``)
_PREFIX = "audio_tokenizer."
#: files of the Hugging Face snapshot the adapter reads
_CKPT_FILES = ("config.json", "configuration_omni.py", "audio_modeling_omni.py", "vector_quantize.py")
#: the vocoder inside the GitHub checkout
_VOCODER_DIR = Path("third_party") / "cosy24k_vocoder"


def _varlen_attention(q: Any, k: Any, v: Any, cu_seqlens_q: Any, cu_seqlens_k: Any, max_seqlen_q: Any = None,
                      max_seqlen_k: Any = None, dropout_p: float = 0.0, softmax_scale: float | None = None,
                      causal: bool = False, **_: Any) -> Any:
    """``flash_attn_varlen_func`` semantics with SDPA: packed ``(total, heads, dim)``, one sequence at a time."""
    import torch
    import torch.nn.functional as F

    out = torch.empty_like(q)
    bq, bk = cu_seqlens_q.tolist(), cu_seqlens_k.tolist()
    for (q0, q1), (k0, k1) in zip(zip(bq[:-1], bq[1:]), zip(bk[:-1], bk[1:])):
        if q1 <= q0:
            continue
        o = F.scaled_dot_product_attention(q[q0:q1].transpose(0, 1)[None], k[k0:k1].transpose(0, 1)[None],
                                           v[k0:k1].transpose(0, 1)[None], is_causal=bool(causal),
                                           scale=softmax_scale)
        out[q0:q1] = o[0].transpose(0, 1)
    return out


@contextlib.contextmanager
def _stand_ins_for_missing() -> Iterator[None]:
    """While upstream modules import: stub ``flash_attn``/``deepspeed`` if absent, remove the stubs after."""
    added = {}
    if importlib.util.find_spec("flash_attn") is None:
        fa = types.ModuleType("flash_attn")
        fa.flash_attn_varlen_func = _varlen_attention  # type: ignore[attr-defined]
        added["flash_attn"] = fa
    if importlib.util.find_spec("deepspeed") is None:
        ds = types.ModuleType("deepspeed")
        ds.zero = types.SimpleNamespace(register_external_parameter=lambda *a, **k: None)  # type: ignore[attr-defined]
        added["deepspeed"] = ds
    for name, mod in added.items():
        sys.modules[name] = mod
    try:
        yield
    finally:
        for name, mod in added.items():
            if sys.modules.get(name) is mod:
                del sys.modules[name]


def _mel_frames(n: int, cfg: Any) -> int:
    """Valid mel frames of ``n`` samples (``OmniAudioProcessor.extract_fbank_features``)."""
    return min(cfg.max_audio_seconds * cfg.sampling_rate // cfg.hop_length, n // cfg.hop_length + 1)


def _lengths(mel_frames: int, cfg: Any) -> tuple[int, int]:
    """Encoder and bridge lengths of ``mel_frames`` (``OmniAudioProcessor.inference_output_length``)."""
    k, s = int(cfg.kernel_size), int(cfg.stride_size)
    enc = (mel_frames + 2 * (k // 2) - k) // 1 + 1  # conv1, stride 1
    enc = (enc + 2 * (k // 2) - k) // s + 1  # conv2
    return enc, (enc // int(cfg.avg_pooler) if int(cfg.avg_pooler) > 1 else enc)


def _frames_one(n: int, cfg: Any) -> int:
    """Code frames of one window of ``n`` samples."""
    return _lengths(_mel_frames(n, cfg), cfg)[1]


class BaichuanCodec(RepoCheckoutCodec):
    """Baichuan-Audio tokenizer: 8-layer RVQ at 12.5 Hz (86 bits a frame), flow-matching decoder + HiFT vocoder."""

    SOURCE = "github.com/baichuan-inc/Baichuan-Audio"
    PATHS = {
        "repo_dir": f"clone {_GH} (its {_VOCODER_DIR.as_posix()} holds the vocoder) and point options.repo_dir at it",
        "checkpoint": f"download {_HF} (config.json, the *.py files and model*.safetensors, e.g. "
                      "`hf download baichuan-inc/Baichuan-Audio-Base --local-dir DIR`) and point "
                      "options.checkpoint at that folder",
    }
    HOP = 1280

    @classmethod
    def _resolve_paths(cls, spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> dict[str, Path]:
        out = super()._resolve_paths(spec, weights)
        ckpt, repo = out["checkpoint"], out["repo_dir"]
        if not ckpt.is_dir():
            raise MissingWeightsError(f"codec '{spec.id}': checkpoint {ckpt} must be the folder of a {_HF} "
                                      f"snapshot (remote code + model*.safetensors), not a file", codec_id=spec.id)
        for name in _CKPT_FILES:
            if not (ckpt / name).exists():
                raise MissingWeightsError(f"codec '{spec.id}': {name} not found in checkpoint folder {ckpt}; "
                                          f"download it from {_HF}", codec_id=spec.id)
        if not (ckpt / "model.safetensors.index.json").exists() and not (ckpt / "model.safetensors").exists():
            raise MissingWeightsError(f"codec '{spec.id}': no model.safetensors.index.json or model.safetensors in "
                                      f"{ckpt}; download the model*.safetensors files from {_HF}", codec_id=spec.id)
        vdir = repo / _VOCODER_DIR
        for name in ("cosy24k_vocoder.py", "hift.pt"):
            if not (vdir / name).exists():
                raise MissingWeightsError(f"codec '{spec.id}': vocoder file {name} not found in {vdir}; clone {_GH} "
                                          f"(with git-lfs files) and point options.repo_dir at it", codec_id=spec.id)
        out["vocoder_dir"] = vdir
        return out

    @property
    def codebook_sizes(self) -> list[int]:
        return [int(s) for s in self.spec.options["codebook_sizes"]]

    # -- loading ---------------------------------------------------------------------------------------------
    def _import_remote(self, name: str) -> Any:
        """Import ``name`` from the checkpoint folder as a submodule of a private package (relative imports work)."""
        folder = self.paths["checkpoint"].resolve()
        pkg = "_codecbench_baichuan_" + hashlib.sha1(str(folder).encode()).hexdigest()[:12]
        if pkg not in sys.modules:
            spec = importlib.machinery.ModuleSpec(pkg, None, is_package=True)
            spec.submodule_search_locations = [str(folder)]
            sys.modules[pkg] = importlib.util.module_from_spec(spec)
        with _stand_ins_for_missing():
            try:
                return importlib.import_module(f"{pkg}.{name}")
            except ImportError as exc:
                raise MissingDependencyError(f"codec '{self.id}': cannot import {name} from {folder} ({_HF} remote "
                                             f"code): {exc}", codec_id=self.id) from exc

    def _read_state(self) -> dict[str, Any]:
        """The ``audio_tokenizer.*`` tensors of the (sharded) safetensors checkpoint, prefix removed."""
        try:
            from safetensors import safe_open
        except ImportError as exc:  # pragma: no cover - installed with transformers
            raise MissingDependencyError("pip install safetensors", codec_id=self.id) from exc
        ckpt = self.paths["checkpoint"]
        index = ckpt / "model.safetensors.index.json"
        if index.exists():
            weight_map = json.loads(index.read_text())["weight_map"]
            shards: dict[str, list[str]] = {}
            for key, shard in weight_map.items():
                if key.startswith(_PREFIX):
                    shards.setdefault(shard, []).append(key)
        else:
            shards = {"model.safetensors": None}  # type: ignore[dict-item]
        state = {}
        for shard, keys in shards.items():
            path = ckpt / shard
            if not path.exists():
                raise MissingWeightsError(f"codec '{self.id}': shard {shard} (listed in {index.name}) not found in "
                                          f"{ckpt}; download it from {_HF}", codec_id=self.id)
            with safe_open(str(path), framework="pt") as f:
                for key in keys if keys is not None else [k for k in f.keys() if k.startswith(_PREFIX)]:
                    state[key[len(_PREFIX):]] = f.get_tensor(key)
        if not state:
            raise MissingWeightsError(f"codec '{self.id}': no '{_PREFIX}*' tensors in the checkpoint at {ckpt}; "
                                      f"it must be {_HF} (the LLM checkpoint that carries the audio tokenizer)",
                                      codec_id=self.id)
        return state

    def _load(self) -> None:
        import torch

        cfg_mod = self._import_remote("configuration_omni")
        am = self._import_remote("audio_modeling_omni")
        if not self.device.startswith("cuda"):
            am.flash_attn_varlen_func = _varlen_attention  # flash-attn needs CUDA
        raw = json.loads((self.paths["checkpoint"] / "config.json").read_text())
        self.config = cfg_mod.OmniConfig(**raw)
        acfg = self.config.audio_config
        self.audio_cfg = acfg
        sizes = [int(s) for s in acfg.vq_config.codebook_sizes]
        if sizes != self.codebook_sizes or len(sizes) != self.n_q:
            raise CodecRuntimeError(f"codec '{self.id}': checkpoint codebooks {sizes} differ from the spec's "
                                    f"n_q={self.n_q}, codebook_sizes={self.codebook_sizes}", codec_id=self.id)

        tok = torch.nn.Module()
        tok.audio_model = am.OmniAudioEncoder(acfg)
        tok.audio_bridge_model = am.OmniAudioVQBridgeTokenizer(self.config)
        voc_cfg = getattr(self.config, "vocoder_config", None)
        fm_cfg = getattr(self.config, "flow_matching_config", None)
        self.can_decode = bool(getattr(voc_cfg, "enable", False)) and bool(getattr(fm_cfg, "enable", False))
        if self.can_decode:
            tok.audio_decoder = am.OmniAudioDecoder(self.config)
            tok.audio_flow_matching_decoder = am.OmniAudioFlowMatchingDecoder(self.config)
            self.fm_from_hidden = bool(getattr(fm_cfg, "use_hidden_states_before_dconv2", False))
        missing, _ = tok.load_state_dict(self._read_state(), strict=False)
        missing = [k for k in missing if not k.endswith("positional_embedding")]  # recomputed sinusoids
        if missing:
            raise CodecRuntimeError(f"codec '{self.id}': checkpoint lacks {len(missing)} tokenizer tensors, e.g. "
                                    f"{missing[:4]}", codec_id=self.id)
        default = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.dtype = getattr(torch, str(self.spec.options.get("dtype", default)))
        self.tokenizer = tok.eval().to(device=self.device, dtype=self.dtype)
        self.seed = int(self.spec.options.get("seed", 0))

        voc_mod = self._import("cosy24k_vocoder", self.paths["vocoder_dir"])
        self.vocoder = voc_mod.Cosy24kVocoder.from_pretrained(str(self.paths["vocoder_dir"] / "hift.pt"))
        self.vocoder = self.vocoder.eval().to(self.device)
        self.vocoder_sr = int(getattr(self.vocoder.hifigan_generator, "sampling_rate", 24000))
        self.model = torch.nn.ModuleDict({"tokenizer": self.tokenizer, "vocoder": self.vocoder})

        try:
            from transformers.audio_utils import mel_filter_bank
        except ImportError as exc:
            raise MissingDependencyError(f"codec '{self.id}': pip install transformers (for the Whisper mel "
                                         f"filters upstream uses): {exc}", codec_id=self.id) from exc
        self.mel_filters = torch.from_numpy(mel_filter_bank(
            num_frequency_bins=1 + acfg.n_fft // 2, num_mel_filters=acfg.num_mel_bins, min_frequency=0.0,
            max_frequency=acfg.sampling_rate / 2.0, sampling_rate=acfg.sampling_rate, norm="slaney",
            mel_scale="slaney")).float()
        self.window_samples = int(acfg.max_audio_seconds * acfg.sampling_rate)
        self.window_frames = _frames_one(self.window_samples, acfg)

    # -- framing ---------------------------------------------------------------------------------------------
    def _windows(self, n_samples: int) -> list[tuple[int, int]]:
        """Consecutive ``max_audio_seconds`` windows ``(start, stop)`` covering the input."""
        w = self.window_samples
        return [(s, min(s + w, n_samples)) for s in range(0, max(n_samples, 1), w)]

    def _padded_len(self, n: int) -> int:
        """Windows too short for one frame are zero-padded to one hop (upstream would drop them)."""
        return n if _frames_one(n, self.audio_cfg) > 0 else max(n, self.HOP)

    def frames_for(self, n_samples: int) -> int:
        return max(1, sum(_frames_one(self._padded_len(b - a), self.audio_cfg) for a, b in self._windows(n_samples)))

    def _features(self, wav: np.ndarray) -> tuple[Any, Any, Any]:
        """Whisper log-mel of one window: ``(1, n_mels, T)``, encoder and bridge lengths (``OmniAudioProcessor``)."""
        import torch
        import torch.nn.functional as F

        cfg = self.audio_cfg
        n = self._padded_len(wav.shape[0])
        x = F.pad(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))[None], (0, n - wav.shape[0]))
        valid = _mel_frames(n, cfg)
        x = F.pad(x, (0, max(0, self.window_samples - n)))  # upstream pads to max_audio_seconds
        stft = torch.stft(x, cfg.n_fft, cfg.hop_length, window=torch.hann_window(cfg.n_fft), return_complex=True)
        mel = self.mel_filters.T @ (stft[..., :-1].abs() ** 2)
        log_spec = torch.clamp(mel, min=1e-10).log10()
        log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
        log_spec = ((log_spec + 4.0) / 4.0)[:, :, :valid]
        enc, frames = _lengths(valid, cfg)
        return log_spec, torch.tensor([enc]), torch.tensor([frames])

    # -- codec API -------------------------------------------------------------------------------------------
    def _codes(self, wav: np.ndarray) -> list[Any]:
        """One ``(frames, n_q)`` code tensor per window."""
        import torch

        wav = check_audio(np.asarray(wav, dtype=np.float32), what=f"codec '{self.id}' input")
        out = []
        with torch.inference_mode():
            for a, b in self._windows(wav.shape[0]):
                mel, enc_len, bridge_len = self._features(wav[a:b])
                emb = self.tokenizer.audio_model(mel.to(self.device, self.dtype), enc_len.to(self.device))
                codes = self.tokenizer.audio_bridge_model(emb, bridge_len.to(self.device))
                out.append(codes.reshape(-1, self.n_q))
        return out

    def encode(self, wav: np.ndarray) -> Encoded:
        import torch

        codes = torch.cat(self._codes(wav), dim=0)
        return self._encoded(codes.T.cpu().numpy(), len(wav))

    def _decode_window(self, codes: Any) -> np.ndarray:
        import torch

        tok = self.tokenizer
        length = torch.tensor([codes.shape[0]], device=self.device)
        emb = tok.audio_bridge_model.decode(codes)
        dec = tok.audio_decoder(emb.to(self.dtype), length)
        fm = tok.audio_flow_matching_decoder
        if self.fm_from_hidden:
            hidden, hidden_len = fm.unpack_hidden_states(dec.hidden_states_before_dconv2,
                                                         dec.output_length_before_dconv2)
            ret = fm(hidden, hidden_len)
        else:
            ret = fm(dec.refined_mel, dec.mel_length)
        mel = ret.flow_matching_mel[0][: int(ret.flow_matching_mel_lengths[0])]
        audio = self.vocoder.decode(mel.transpose(0, 1).float()[None], device=self.device)
        return resample(audio.reshape(-1).float().cpu().numpy(), self.vocoder_sr, self.sample_rate)

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        if not self.can_decode:
            raise CodecRuntimeError(f"codec '{self.id}': the checkpoint config has no vocoder/flow-matching decoder "
                                    "enabled, so codes cannot be turned back into audio", codec_id=self.id)
        codes = torch.as_tensor(np.asarray(encoded.codes, dtype=np.int64), device=self.device).T  # (F, n_q)
        pieces = []
        with torch.inference_mode(), self._seeded(self.seed):
            for start in range(0, codes.shape[0], self.window_frames):
                chunk = codes[start: start + self.window_frames]
                pieces.append(fit_length(self._decode_window(chunk), chunk.shape[0] * self.HOP))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return fit_length(audio.astype(np.float32), encoded.n_samples)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            lat = [self.tokenizer.audio_bridge_model.recover(c) for c in self._codes(wav)]
        return torch.cat(lat, dim=0)[: self.frames_for(len(wav))].float().cpu().numpy()

