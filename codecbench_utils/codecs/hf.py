"""Neural codecs backed by the ``transformers`` model classes.

One subclass of :class:`HFCodec` per model family; ``params/codecs/<id>.yaml`` picks
the family (``backend``), the checkpoint and the number of codebooks. What
:meth:`~HFCodec.embed` returns (the quantized continuous latent at the codec's
frame rate, computed from the configured number of codebooks, as the paper probes it):

==============  ==============================  ======================================  =====
backend         class                           ``embed`` returns                       dim
==============  ==============================  ======================================  =====
hf_dac          ``DacModel``                    quantized representation ``z``          1024
                                                (sum of the first ``n_q`` codebooks'
                                                ``out_proj`` outputs)
hf_encodec      ``EncodecModel``                ``quantizer.decode(codes)``: the RVQ      128
                                                embedding the decoder consumes
hf_mimi         ``MimiModel``                   ``quantizer.decode(codes)``: the          512
                                                dequantized latent (before upsampling)
hf_xcodec       ``XcodecModel``                 ``quantizer.decode(codes)``: the joint   1024
                                                acoustic+semantic quantized latent
hf_xcodec2      ``Xcodec2Model``                ``acoustic_decoder.fc`` applied to the   1024
                                                FSQ output projection (``fc_post_a``
                                                of the original code)
hf_neucodec     ``NeuCodecModel``               as X-codec-2 (its decoder's ``fc``)       1024
hf_wavtokenizer ``WavTokenizerModel``           ``quantizer.decode(codes)``               512
==============  ==============================  ======================================  =====

Weights come from ``weights=`` (a folder holding ``config.json`` and the safetensors),
``options.weights`` in the YAML (``~`` and ``$VARS`` expanded), or the Hugging Face
cache for ``options.repo``; they are never downloaded here
(``from_pretrained(..., local_files_only=True)``). A missing checkpoint raises
:class:`MissingWeightsError` naming the codec, the files expected and the download line.

Inputs are right-padded to a multiple of the hop length (and, in a batch, to the
longest item); outputs are trimmed back, so decoded audio is time-aligned with the
input: every family here either uses symmetric ("same") convolutions or causal
convolutions whose padding sits on the left, so no delay remains after trimming.
``options.delay_samples`` can still shift the output left if a checkpoint is ever
measured to lag. NeuCodec decodes at another rate than it encodes (``output_sample_rate``):
its output covers the same duration at 24 kHz (``output_hop`` samples a frame). Items longer
than ``options.chunk_seconds`` (default 60 s) are cut into chunks of whole frames, so memory
stays bounded; the codes of the chunks are concatenated. On CUDA, ``options.dtype`` (``bfloat16`` / ``float16``) runs the
networks under autocast. Inference is deterministic: eval mode, no dropout, no sampling.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import (
    CodecRuntimeError,
    ConfigError,
    InvalidAudioError,
    MissingDependencyError,
    MissingWeightsError,
)
from .base import Codec, CodecSpec, Encoded, Resynthesis, expand_path
from .model_codec import ModelCodec

__all__ = [
    "HFCodec",
    "DacCodec",
    "EncodecCodec",
    "MimiCodec",
    "XcodecCodec",
    "Xcodec2Codec",
    "NeuCodecCodec",
    "WavTokenizerCodec",
    "resolve_weights",
]

logger = logging.getLogger(__name__)

#: default length of one chunk for long files, in seconds of audio
DEFAULT_CHUNK_SECONDS = 60.0
#: default number of items (or chunks) per forward pass in the batch API
DEFAULT_BATCH_SIZE = 8
#: files that make a transformers checkpoint folder
_CHECKPOINT_FILES = ("config.json", "model.safetensors")


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - transformers is a core dependency
        raise MissingDependencyError("package 'transformers' is not installed; "
                                     "install it with: pip install transformers") from exc
    return transformers


def resolve_weights(spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> str:
    """Where a transformers checkpoint for ``spec`` is: a local folder or a cached repo id.

    Parameters
    ----------
    spec : CodecSpec
        Its ``options`` may hold ``weights`` (a local folder) and ``repo`` (a Hub id).
    weights : path, optional
        Overrides ``options.weights``.

    Returns
    -------
    str
        A folder with ``config.json`` or a repo id present in the Hugging Face cache.

    Raises
    ------
    MissingWeightsError
        Neither is on disk; the message names the files expected and how to get them.
    """
    local = weights if weights is not None else spec.options.get("weights")
    repo = spec.options.get("repo")
    if local:
        folder = expand_path(local)
        if (folder / "config.json").is_file():
            return str(folder)
        raise MissingWeightsError(
            f"codec '{spec.id}': no checkpoint at {folder} (expected {' + '.join(_CHECKPOINT_FILES)} there); "
            + (f"copy the snapshot of '{repo}' there, or remove options.weights from params/codecs/{spec.id}.yaml "
               f"and run `codecbench codecs fetch {spec.id}`" if repo else
               f"set options.weights in params/codecs/{spec.id}.yaml to a folder holding the checkpoint"),
            codec_id=spec.id,
        )
    if not repo:
        raise MissingWeightsError(f"codec '{spec.id}': its YAML names neither options.weights nor options.repo",
                                  codec_id=spec.id)
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError as exc:  # pragma: no cover - installed with transformers
        raise MissingDependencyError("install huggingface_hub: pip install huggingface_hub") from exc
    hit = try_to_load_from_cache(repo, "config.json", revision=spec.options.get("revision"))
    if isinstance(hit, str):
        return repo
    raise MissingWeightsError(
        f"codec '{spec.id}': checkpoint '{repo}' is not in the Hugging Face cache "
        f"(expected {' + '.join(_CHECKPOINT_FILES)}); download it with `codecbench codecs fetch {spec.id}`, "
        f"or set options.weights in params/codecs/{spec.id}.yaml to a local copy",
        codec_id=spec.id,
    )


class HFCodec(ModelCodec):
    """Shared machinery of the transformers-backed codecs (padding, batching, chunking).

    Subclasses set ``MODEL_CLASS`` and implement ``_encode_t``, ``_decode_t`` and
    ``_embed_t`` on padded torch batches, plus ``hop_length`` and ``codebook_sizes``.

    Parameters
    ----------
    spec : CodecSpec
        The codec's metadata and options.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    weights : path, optional
        A local checkpoint folder; overrides ``spec.options["weights"]``.
    """

    PACKAGES = ("transformers", "torch")
    #: whether items of unequal length may share a batch: only where the conformance suite measured batched
    #: output equal to single output (``codecbench codecs check``). Elsewhere the padding of the shorter
    #: items (code 0 is a real code, not silence) leaks into their last frames, so a batch only groups
    #: segments of equal padded length (chunks of long files, corpora of equal lengths).
    BATCHES_UNEQUAL_LENGTHS: bool = False

    MODEL_CLASS: str = ""
    #: True for VAE-style tokenizers: ``encode`` gives float latents ``(dim, frames)``, there is no bitrate
    CONTINUOUS: bool = False
    #: the fewest code frames the networks accept (NeuCodec's decoder needs 2); shorter items are refused
    #: with the reason, and a chunk of a long file shorter than this joins the chunk before it
    MIN_FRAMES: int = 1

    def __init__(self, spec: CodecSpec, *, device: str = "cpu",
                 weights: str | os.PathLike[str] | None = None) -> None:
        Codec.__init__(self, spec, device=device)  # not ModelCodec's: transformers resolves its own weights
        tf = _transformers()
        cls = getattr(tf, self.MODEL_CLASS, None)
        if cls is None:
            raise MissingDependencyError(
                f"codec '{spec.id}': transformers {tf.__version__} has no {self.MODEL_CLASS}; "
                "install a newer one: pip install -U transformers", codec_id=spec.id)
        source = resolve_weights(spec, weights)
        try:
            model = cls.from_pretrained(source, local_files_only=True)
        except OSError as exc:
            raise MissingWeightsError(f"codec '{spec.id}': cannot load {self.MODEL_CLASS} from '{source}': {exc}",
                                      codec_id=spec.id) from exc
        self._setup(model)

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        try:
            tf = _transformers()
        except MissingDependencyError as exc:  # pragma: no cover
            return str(exc)
        if not hasattr(tf, cls.MODEL_CLASS):
            return f"transformers {tf.__version__} has no {cls.MODEL_CLASS} (pip install -U transformers)"
        try:
            resolve_weights(spec)
        except MissingWeightsError as exc:
            return str(exc)
        return None

    # ------------------------------------------------------------------ setup
    def _setup(self, model: Any) -> None:
        import torch

        self.model = self._freeze(model)
        self.config = model.config
        opts = self.spec.options
        self.n_q = int(self.spec.n_q) if self.spec.n_q is not None else None
        self.chunk_seconds = float(opts.get("chunk_seconds", DEFAULT_CHUNK_SECONDS))
        self.batch_size = int(opts.get("batch_size", DEFAULT_BATCH_SIZE))
        self.delay_samples = int(opts.get("delay_samples", 0))
        dtype = str(opts.get("dtype", "float32"))
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ConfigError(f"codec '{self.id}': options.dtype must be float32, bfloat16 or float16, got {dtype!r}")
        self.autocast_dtype = None if dtype == "float32" else getattr(torch, dtype)
        model_sr = self._model_sample_rate()
        if model_sr is not None and int(model_sr) != int(self.sample_rate):
            raise CodecRuntimeError(f"codec '{self.id}': YAML says sample_rate {self.sample_rate} but the "
                                    f"checkpoint runs at {model_sr}", codec_id=self.id)
        self._post_setup()

    def _post_setup(self) -> None:
        """Family-specific checks after the model is loaded (e.g. n_q -> bandwidth)."""

    def _model_sample_rate(self) -> int | None:
        return getattr(self.config, "sampling_rate", None)

    # ------------------------------------------------------------- properties
    @property
    def hop_length(self) -> int:
        """Input samples per code frame."""
        return int(self.config.hop_length)

    @property
    def output_hop(self) -> int:
        """Output samples per code frame (``hop_length`` unless the decoder runs at another rate)."""
        return self.hop_length * self.output_sample_rate // self.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def codebook_sizes(self) -> list[int]:
        """Entries of each codebook used (none for continuous latents)."""
        return [] if self.CONTINUOUS else [int(self.config.codebook_size)] * int(self.n_q or 1)

    @property
    def bits_per_frame(self) -> float | None:
        """Bits of one code frame; None for continuous latents, which have no bitrate."""
        return None if self.CONTINUOUS else float(sum(math.log2(s) for s in self.codebook_sizes))

    @property
    def embedding_dim(self) -> int | None:
        return self.spec.embedding_dim

    def frames_for(self, n_samples: int) -> int:
        """Code frames for an item of ``n_samples`` (right-padded to whole frames)."""
        return max(1, math.ceil(n_samples / self.hop_length))

    # ---------------------------------------------------------- torch hooks
    def _encode_t(self, x: Any) -> Any:
        """(B, 1, T) float tensor -> (B, n_q, F) long tensor (continuous: (B, dim, F) float latents)."""
        raise NotImplementedError

    def _decode_t(self, codes: Any) -> Any:
        """(B, n_q, F) long tensor (continuous: float latents) -> (B, T') float tensor at the output rate."""
        raise NotImplementedError

    def _embed_t(self, x: Any, codes: Any) -> Any:
        """(B, 1, T) audio and its (B, n_q, F) codes -> (B, D, F) quantized latent."""
        raise NotImplementedError

    def _pad_input(self, x: Any) -> Any:
        """Right-pad (B, 1, T) to whole frames; families with other needs override it."""
        import torch.nn.functional as F

        pad = (-x.shape[-1]) % self.hop_length
        return F.pad(x, (0, pad)) if pad else x

    def _autocast(self) -> Any:
        import contextlib

        import torch

        if self.autocast_dtype is not None and str(self.device).startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=self.autocast_dtype)
        return contextlib.nullcontext()

    # ------------------------------------------------------ segment batching
    def _spans(self, total: int, size: int, unit: int) -> list[tuple[int, int]]:
        """``[start, stop)`` pieces of ``size`` over ``total``; a last piece under ``MIN_FRAMES`` ``unit``s joins
        the one before it (so a chunk is never too short for the networks)."""
        spans = [(i, min(i + size, total)) for i in range(0, total, size)] or [(0, 0)]
        if len(spans) > 1 and (spans[-1][1] - spans[-1][0]) < self.MIN_FRAMES * unit:
            spans[-2:] = [(spans[-2][0], total)]
        return spans

    def _segments(self, wav: np.ndarray) -> list[np.ndarray]:
        """Cut an item into chunks of whole frames of about ``chunk_seconds`` (at most, but for a short tail)."""
        hop = self.hop_length
        chunk = max(hop, int(self.chunk_seconds * self.sample_rate) // hop * hop)
        return [wav[a:b] for a, b in self._spans(wav.shape[0], chunk, hop)]

    def _run_segments(self, segs: list[np.ndarray], fn: Any) -> list[Any]:
        """Run ``fn(padded_batch)`` over segments in batches; returns per-segment outputs."""
        import torch

        out: list[Any] = [None] * len(segs)
        for idx in self._batches([self._padded(s.shape[0]) for s in segs]):
            longest = max(segs[i].shape[0] for i in idx)
            x = torch.zeros(len(idx), 1, longest, dtype=torch.float32)
            for row, i in enumerate(idx):
                x[row, 0, :segs[i].shape[0]] = torch.from_numpy(segs[i])
            x = self._pad_input(x.to(self.device))
            with torch.inference_mode(), self._autocast():
                res = fn(x)
            for row, i in enumerate(idx):
                out[i] = res[row]
        return out

    def _batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices grouped into batches, longest first: up to ``batch_size`` each, and of one length
        unless the family may batch unequal lengths (``BATCHES_UNEQUAL_LENGTHS``)."""
        batches: list[list[int]] = []
        for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
            fits = batches and len(batches[-1]) < self.batch_size and (
                self.BATCHES_UNEQUAL_LENGTHS or lengths[batches[-1][0]] == lengths[i])
            if fits:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _padded(self, n: int) -> int:
        """Samples of an ``n``-sample item once padded to its frames (``frames_for``, which families override)."""
        return self.frames_for(n) * self.hop_length

    def _check(self, wav: np.ndarray) -> np.ndarray:
        wav = super()._check(wav)
        if self.frames_for(wav.shape[0]) < self.MIN_FRAMES:
            raise InvalidAudioError(
                f"codec '{self.id}': {wav.shape[0]} samples make {self.frames_for(wav.shape[0])} code frame(s); it "
                f"needs at least {self.MIN_FRAMES} ({1000 * self.MIN_FRAMES * self.hop_length / self.sample_rate:g} ms)")
        return wav

    def _input_gain(self, wav: np.ndarray) -> float:
        """The factor an item is scaled by before encoding (1: none); families that normalise loudness override it."""
        return 1.0

    def _inputs(self, wavs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
        """Checked items, each scaled by its ``_input_gain``, and those gains (encode and embed see the same input)."""
        wavs = [self._check(w) for w in wavs]
        gains = [self._input_gain(w) for w in wavs]
        return [w if g == 1.0 else (w * g).astype(np.float32) for w, g in zip(wavs, gains, strict=True)], gains

    def _segment_frames(self, segs: list[np.ndarray]) -> list[int]:
        # every segment but the last holds whole frames exactly
        return [s.shape[0] // self.hop_length for s in segs[:-1]] + [self.frames_for(segs[-1].shape[0])]

    # ---------------------------------------------------------------- encode
    def encode_batch(self, wavs: Sequence[np.ndarray]) -> list[Encoded]:
        """Encode several items, padded into batches of ``options.batch_size``."""
        wavs, gains = self._inputs(wavs)
        segs_per = [self._segments(w) for w in wavs]
        flat = [s for segs in segs_per for s in segs]
        codes = self._run_segments(flat, lambda x: self._encode_t(x).cpu())
        out, k = [], 0
        for wav, segs, gain in zip(wavs, segs_per, gains, strict=True):
            parts = []
            for s, nf in zip(segs, self._segment_frames(segs), strict=True):
                c = codes[k].float().numpy() if self.CONTINUOUS else codes[k].numpy().astype(np.int64)
                k += 1
                if c.shape[-1] < nf:
                    raise CodecRuntimeError(f"codec '{self.id}': {c.shape[-1]} frames for {s.shape[0]} samples, "
                                            f"expected {nf}", codec_id=self.id)
                parts.append(c[:, :nf])
            arr = np.concatenate(parts, axis=1)
            bits = self.bits_per_frame
            out.append(Encoded(codes=arr, n_samples=wav.shape[0], sample_rate=self.sample_rate,
                               n_bits=None if bits is None else int(round(arr.shape[1] * bits)), gain=gain))
        return out

    def encode(self, wav: np.ndarray) -> Encoded:
        """Codes ``(n_q, frames)`` int64 of one mono item at ``sample_rate``."""
        return self.encode_batch([wav])[0]

    # ---------------------------------------------------------------- decode
    def decode_batch(self, encoded: Sequence[Encoded]) -> list[np.ndarray]:
        """Decode several items; each output lasts exactly as long as its input (``output_length``)."""
        import torch

        chunk_frames = max(1, int(self.chunk_seconds * self.sample_rate) // self.hop_length)
        out_hop = self.output_hop
        dtype = torch.float32 if self.CONTINUOUS else torch.long
        pieces: list[np.ndarray] = []
        owners: list[int] = []
        for j, enc in enumerate(encoded):
            c = np.asarray(enc.codes)
            for a, b in self._spans(c.shape[1], chunk_frames, 1):
                pieces.append(c[:, a:b])
                owners.append(j)
        results: list[Any] = [None] * len(pieces)
        for idx in self._batches([p.shape[1] for p in pieces]):  # code 0 is a real code: padding is not silence
            longest = max(pieces[i].shape[1] for i in idx)
            codes = torch.zeros(len(idx), pieces[idx[0]].shape[0], longest, dtype=dtype)
            for row, i in enumerate(idx):
                codes[row, :, :pieces[i].shape[1]] = torch.from_numpy(pieces[i])
            with torch.inference_mode(), self._autocast():
                audio = self._decode_t(codes.to(self.device)).float().cpu().numpy()
            for row, i in enumerate(idx):
                results[i] = audio[row, :pieces[i].shape[1] * out_hop]
        outs = []
        for j, enc in enumerate(encoded):
            wav = np.concatenate([results[i] for i in range(len(pieces)) if owners[i] == j])
            if self.delay_samples:
                wav = wav[self.delay_samples:]
            if enc.gain != 1.0:
                wav = wav / enc.gain
            outs.append(fit_length(wav.astype(np.float32), self.output_length(enc.n_samples)))
        return outs

    def decode(self, encoded: Encoded) -> np.ndarray:
        """Audio float32 at ``output_sample_rate``, as long as the input and aligned with it."""
        return self.decode_batch([encoded])[0]

    # ----------------------------------------------------------------- embed
    def embed_batch(self, wavs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Quantized latents ``(frames, dim)`` float32 of several items (see the module table)."""
        wavs, _ = self._inputs(wavs)
        segs_per = [self._segments(w) for w in wavs]
        flat = [s for segs in segs_per for s in segs]

        def run(x: Any) -> Any:
            return self._embed_t(x, self._encode_t(x)).float().transpose(1, 2).cpu()

        lat = self._run_segments(flat, run)
        out, k = [], 0
        for segs in segs_per:
            parts = []
            for nf in self._segment_frames(segs):
                parts.append(lat[k][:nf].numpy())
                k += 1
            out.append(np.ascontiguousarray(np.concatenate(parts, axis=0), dtype=np.float32))
        return out

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """Quantized continuous latent, shape ``(frames, embedding_dim)``, float32."""
        return self.embed_batch([wav])[0]

    # ----------------------------------------------------------- resynthesis
    def resynthesize_batch(self, wavs: list[np.ndarray]) -> list[Resynthesis]:
        """Batched encode + decode; per-item times are the batch time split by duration."""
        import time

        t0 = time.perf_counter()
        encs = self.encode_batch(wavs)
        t1 = time.perf_counter()
        outs = self.decode_batch(encs)
        t2 = time.perf_counter()
        total = sum(e.n_samples for e in encs) or 1
        return [Resynthesis(o, self.output_sample_rate, e.bitrate_kbps, (t1 - t0) * e.n_samples / total,
                            (t2 - t1) * e.n_samples / total) for o, e in zip(outs, encs, strict=True)]


def _bandwidth_for(codec: HFCodec, n_q: int, frame_rate: float, bits: int, bandwidths: Sequence[float],
                   n_for: Any) -> float:
    """The configured bandwidth (kbps) that selects ``n_q`` codebooks."""
    for bw in bandwidths:
        if n_for(bw) == n_q:
            return float(bw)
    raise CodecRuntimeError(
        f"codec '{codec.id}': n_q={n_q} matches none of the checkpoint's bandwidths {list(bandwidths)} "
        f"({frame_rate:g} Hz x {bits} bits per codebook)", codec_id=codec.id)


class DacCodec(HFCodec):
    """Descript Audio Codec (``DacModel``): RVQ on a symmetric conv encoder; any ``n_q`` <= its codebooks."""

    MODEL_CLASS = "DacModel"

    def _post_setup(self) -> None:
        if self.n_q is None or not 1 <= self.n_q <= self.config.n_codebooks:
            raise CodecRuntimeError(f"codec '{self.id}': n_q must be in 1..{self.config.n_codebooks}, "
                                    f"got {self.n_q}", codec_id=self.id)

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x, n_quantizers=self.n_q).audio_codes[:, : self.n_q]

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(audio_codes=codes).audio_values

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return self.model.quantizer.from_codes(codes)[0]


class EncodecCodec(HFCodec):
    """EnCodec (``EncodecModel``) at a fixed bandwidth; n_q follows from it (24 kHz: 750 bps a codebook)."""

    BATCHES_UNEQUAL_LENGTHS = True  # measured: batched == single (padding mask)

    MODEL_CLASS = "EncodecModel"

    def _post_setup(self) -> None:
        cfg = self.config
        if cfg.chunk_length_s is not None or cfg.normalize:
            raise CodecRuntimeError(f"codec '{self.id}': only un-chunked, un-normalized EnCodec checkpoints "
                                    "(e.g. facebook/encodec_24khz) are supported", codec_id=self.id)
        q = self.model.quantizer
        self.bandwidth = _bandwidth_for(self, int(self.n_q or 0), cfg.frame_rate, cfg.codebook_nbits,
                                        cfg.target_bandwidths, q.get_num_quantizers_for_bandwidth)

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x, bandwidth=self.bandwidth).audio_codes[0]

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(codes[None], [None]).audio_values[:, 0]

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return self.model.quantizer.decode(codes.transpose(0, 1))


class MimiCodec(HFCodec):
    """Kyutai's Mimi (``MimiModel``): split RVQ (1 semantic + acoustic codebooks) at 12.5 Hz."""

    BATCHES_UNEQUAL_LENGTHS = True  # measured: batched == single (padding mask)

    MODEL_CLASS = "MimiModel"

    @property
    def hop_length(self) -> int:
        return int(self.config.frame_size)

    def _post_setup(self) -> None:
        if self.n_q is None or not 1 <= self.n_q <= self.config.num_quantizers:
            raise CodecRuntimeError(f"codec '{self.id}': n_q must be in 1..{self.config.num_quantizers}, "
                                    f"got {self.n_q}", codec_id=self.id)

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x, num_quantizers=self.n_q).audio_codes

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(codes).audio_values[:, 0]

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return self.model.quantizer.decode(codes)


class XcodecCodec(HFCodec):
    """X-codec (``XcodecModel``): DAC acoustic + HuBERT semantic features, joint RVQ."""

    MODEL_CLASS = "XcodecModel"

    def _model_sample_rate(self) -> int | None:
        return getattr(self.config, "sample_rate", None)

    def _post_setup(self) -> None:
        cfg = self.config
        q = self.model.quantizer
        n_for = getattr(q, "get_num_quantizers_for_bandwidth", None)
        if n_for is None:  # pragma: no cover - older transformers
            def n_for(bw: float) -> int:
                return max(1, int(1000 * bw // (cfg.frame_rate * cfg.codebook_nbits)))
        self.bandwidth = _bandwidth_for(self, int(self.n_q or 0), cfg.frame_rate, cfg.codebook_nbits,
                                        cfg.target_bandwidths, n_for)

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x, bandwidth=self.bandwidth).audio_codes

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(codes).audio_values[:, 0]

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return self.model.quantizer.decode(codes.transpose(0, 1))


class Xcodec2Codec(HFCodec):
    """X-codec-2 (``Xcodec2Model``): one FSQ codebook of 65536 over w2v-BERT + acoustic features.

    The semantic branch takes 80-bin Kaldi log-mel frames (25 ms / 10 ms, stacked by 2),
    computed with transformers' NumPy ``SeamlessM4TFeatureExtractor`` as the original
    X-codec-2 code does (``Xcodec2FeatureExtractor`` needs torchaudio). As there, the
    audio gets one extra frame of right padding: ``frames = n_samples // hop + 1``.
    """

    MODEL_CLASS = "Xcodec2Model"

    def _post_setup(self) -> None:
        from transformers import SeamlessM4TFeatureExtractor

        self._fe = SeamlessM4TFeatureExtractor(feature_size=80, num_mel_bins=80, sampling_rate=self.sample_rate,
                                               padding_value=1.0, stride=2)

    @property
    def codebook_sizes(self) -> list[int]:
        return [int(np.prod(self.config.quantization_levels))]

    def frames_for(self, n_samples: int) -> int:
        return n_samples // self.hop_length + 1

    def _pad_input(self, x: Any) -> Any:
        import torch.nn.functional as F

        pad = self.hop_length - x.shape[-1] % self.hop_length  # always >= 1 sample, as upstream
        return F.pad(x, (0, pad))

    def _features(self, x: Any) -> tuple[Any, Any]:
        half = self.hop_length // 2
        wavs = [np.pad(row, (half, half)) for row in x[:, 0].float().cpu().numpy()]
        feats = self._fe(wavs, sampling_rate=self.sample_rate, return_tensors="pt", padding=True)
        return feats["input_features"].to(x.device), feats["attention_mask"].to(x.device)

    def _encode_t(self, x: Any) -> Any:
        feats, mask = self._features(x)
        out = self.model.encode(x, feats, input_features_mask=mask)
        return out.audio_codes

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(audio_codes=codes).audio_values[:, 0]

    def _embed_t(self, x: Any, codes: Any) -> Any:
        latents = self.model.quantizer.from_codes(codes.transpose(1, 2))  # (B, F, quantization_dim)
        return self.model.acoustic_decoder.fc(latents).transpose(1, 2)


class NeuCodecCodec(Xcodec2Codec):
    """NeuCodec (``NeuCodecModel``): X-codec-2's FSQ codebook of 65536 at 50 Hz, encoding 16 kHz audio and
    decoding 24 kHz (an ISTFT head at the output rate): ``output_sample_rate`` 24000 in its YAML.

    As the reference feature extractor does (``NeuCodecFeatureExtractor``, which needs torchaudio), the
    audio gets one sample then up to a whole frame of right padding, and the semantic branch's Kaldi
    log-mel frames are computed on that padded audio with no extra padding on the sides, so an item
    has ``n_samples // 320`` frames; the decoded audio's last partial frame (under 20 ms) is silence.
    """

    MODEL_CLASS = "NeuCodecModel"
    MIN_FRAMES = 2  # its decoder's normalisation needs two frames: items of at least 40 ms

    def _model_sample_rate(self) -> int | None:
        return getattr(self.config, "input_sampling_rate", None)

    def _post_setup(self) -> None:
        super()._post_setup()
        model_out = int(self.config.output_sampling_rate)
        if model_out != self.output_sample_rate:
            raise CodecRuntimeError(f"codec '{self.id}': YAML says output_sample_rate {self.output_sample_rate} "
                                    f"but the checkpoint decodes at {model_out}", codec_id=self.id)

    @property
    def hop_length(self) -> int:
        return int(self.config.encoder_hop_length)  # config.hop_length is the decoder's, at the output rate

    def frames_for(self, n_samples: int) -> int:
        return max(1, n_samples // self.hop_length)

    def _features(self, x: Any) -> tuple[Any, Any]:
        wavs = list(x[:, 0].float().cpu().numpy())
        feats = self._fe(wavs, sampling_rate=self.sample_rate, return_tensors="pt", padding=True)
        return feats["input_features"].to(x.device), feats["attention_mask"].to(x.device)


class WavTokenizerCodec(HFCodec):
    """WavTokenizer (``WavTokenizerModel``): a single 4096-entry codebook, Vocos decoder."""

    MODEL_CLASS = "WavTokenizerModel"

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x).audio_codes

    def _decode_t(self, codes: Any) -> Any:
        audio = self.model.decode(codes).audio_values
        return audio[:, 0] if audio.ndim == 3 else audio

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return self.model.encoder_model.quantizer.decode(codes.squeeze(1))
