"""Word and character error rates of an ASR system on the resynthesis and on the reference, offline.

Two recognizers (``recognizer=``, recorded per row in ``asr_model``):

- ``pocketsphinx`` (default): CMU PocketSphinx 5 with the en-US acoustic model, language model
  and dictionary that ship inside the ``pocketsphinx`` wheel: it always works, with no download
  and no network. It is a weak recognizer (about 0.2x real time on one core, and far from
  today's error rates on clean speech), so read the *difference* between ``asr_wer`` and
  ``asr_wer_ref``: the damage the codec does to what a recognizer hears, on the same audio.
- ``whisper:<model>``: a Whisper checkpoint through ``transformers`` (greedy decoding, English
  transcription), from a local folder or a Hugging Face repo already in the cache
  (``hf download openai/whisper-small``); nothing is downloaded here.

Both texts go through the named normaliser :data:`NORMALIZER` before scoring (its name is
recorded in every row through the metric versions). Rates are per item (errors over reference
words or characters, via ``jiwer``), so a table's mean is a mean over items.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import InvalidAudioError, MetricError, require
from .registry import scored_signals

__all__ = ["ASR_ERROR_VERSION", "NORMALIZER", "ASR_SR", "DEFAULT_RECOGNIZER", "normalize_text", "transcribe",
           "asr_error_rates", "load_recognizer", "recognizer_name", "PocketSphinxRecognizer", "WhisperRecognizer"]

#: The normaliser's name and what it does (recorded in every row).
NORMALIZER = ("basic-en-1: lowercase; '-' and '_' become spaces; characters other than a-z, 0-9, apostrophes and "
              "spaces dropped; apostrophes at word edges dropped; whitespace collapsed; numbers not spelled out")
ASR_ERROR_VERSION = f"codecbench asr_error 1 (pocketsphinx en-us default models; normaliser {NORMALIZER})"
#: The rate the en-US acoustic model was trained on.
ASR_SR = 16000
DEFAULT_RECOGNIZER = "pocketsphinx"
_DECODER: list[Any] = []
_RECOGNIZERS: dict[str, Any] = {}  # one loaded recognizer per spec and process


def normalize_text(text: str) -> str:
    """The ``basic-en-1`` normaliser.

    Examples
    --------
    >>> normalize_text("Front-Center, isn't it?  'Yes'")
    "front center isn't it yes"
    """
    t = re.sub(r"[-_]", " ", str(text).lower())
    t = re.sub(r"[^a-z0-9' ]", " ", t)
    words = [w.strip("'") for w in t.split()]
    return " ".join(w for w in words if w)


def _decoder() -> Any:
    """One PocketSphinx decoder per process (loading its models takes about 0.3 s)."""
    if not _DECODER:
        ps = require("pocketsphinx", "pocketsphinx==5.1.1", purpose="the ASR error rates")
        _DECODER.append(ps.Decoder(samprate=ASR_SR, loglevel="FATAL"))
    return _DECODER[0]


def _recognizer_input(audio: np.ndarray, sr: int, dtype: Any) -> np.ndarray:
    """What every recognizer takes: non-empty, finite 16 kHz mono audio (else the reason, as the row's)."""
    if sr != ASR_SR:
        raise InvalidAudioError(f"asr: needs {ASR_SR} Hz audio, got {sr}", metric="asr")
    x = np.asarray(audio, dtype=dtype)
    if x.ndim != 1 or x.size == 0 or not np.isfinite(x).all():
        raise InvalidAudioError("asr: expected a non-empty, finite mono signal", metric="asr")
    return x


def transcribe(audio: np.ndarray, sr: int) -> str:
    """PocketSphinx's best hypothesis for 16 kHz mono audio ('' when it hears no word)."""
    x = _recognizer_input(audio, sr, np.float64)
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
    dec = _decoder()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    hyp = dec.hyp()
    return hyp.hypstr if hyp is not None else ""


class PocketSphinxRecognizer:
    """The offline default (models inside the wheel)."""

    name = DEFAULT_RECOGNIZER

    def transcribe(self, audio: np.ndarray, sr: int) -> str:
        return transcribe(audio, sr)


class WhisperRecognizer:
    """A Whisper checkpoint through transformers: greedy decoding of English speech, on the CPU.

    ``source`` is a local folder (``config.json``, weights, tokenizer and feature extractor) or a
    Hugging Face repo id already in the local cache. Multilingual checkpoints are told the
    language (English) and the task (transcribe); English-only ones need neither.
    """

    def __init__(self, source: str, *, max_new_tokens: int = 224) -> None:

        from ..errors import MissingWeightsError

        transformers = require("transformers", "transformers", purpose="Whisper as the ASR recognizer")
        try:
            self.processor = transformers.WhisperProcessor.from_pretrained(source, local_files_only=True)
            self.model = transformers.WhisperForConditionalGeneration.from_pretrained(
                source, local_files_only=True).eval()
        except (OSError, ValueError) as exc:  # not on disk, or not a repo id (huggingface_hub's ValueError)
            raise MissingWeightsError(
                f"asr recognizer 'whisper:{source}': no local copy ({type(exc).__name__}); get it with "
                f"`hf download {source}` (or pass a folder holding config.json, the weights, the tokenizer and "
                "preprocessor_config.json)", metric="asr") from exc
        # the decoder's context bounds the transcript (448 tokens for the released models; less for test configs)
        self.max_new_tokens = min(max_new_tokens, self.model.config.max_target_positions // 2)
        gen = self.model.generation_config
        self._gen_kwargs = ({"language": "en", "task": "transcribe"}
                            if getattr(gen, "lang_to_id", None) and getattr(gen, "is_multilingual", True) else {})
        from ..codecs.fingerprint import model_fingerprint

        self.name = f"whisper:{source}@{model_fingerprint(self.model, source)[:8]}"

    def transcribe(self, audio: np.ndarray, sr: int) -> str:
        import torch

        x = _recognizer_input(audio, sr, np.float32)
        feats = self.processor(x, sampling_rate=sr, return_tensors="pt")
        with torch.inference_mode():
            ids = self.model.generate(feats.input_features, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      **self._gen_kwargs)
        return self.processor.batch_decode(ids, skip_special_tokens=True)[0].strip()


def load_recognizer(spec: str | Any = DEFAULT_RECOGNIZER) -> Any:
    """``pocketsphinx`` or ``whisper:<folder or repo id>`` (loaded once per process); an object is returned as is."""
    if not isinstance(spec, str):
        return spec
    if spec not in _RECOGNIZERS:
        if spec == DEFAULT_RECOGNIZER:
            _RECOGNIZERS[spec] = PocketSphinxRecognizer()
        elif spec.startswith("whisper:") and spec.partition(":")[2]:
            _RECOGNIZERS[spec] = WhisperRecognizer(spec.partition(":")[2])
        else:
            from ..errors import UnknownNameError

            raise UnknownNameError(f"unknown ASR recognizer {spec!r}; use 'pocketsphinx' or "
                                   "'whisper:<folder or Hugging Face repo id>'")
    return _RECOGNIZERS[spec]


def recognizer_name(spec: str | Any = DEFAULT_RECOGNIZER) -> str:
    """What a row records in ``asr_model`` (Whisper: the source and a hash of its config and weights)."""
    return load_recognizer(spec).name


def _rates(reference: str, hypothesis: str) -> tuple[float, float]:
    import jiwer

    if not hypothesis:  # jiwer refuses an empty hypothesis: every reference word is deleted
        return 1.0, 1.0
    return float(jiwer.wer(reference, hypothesis)), float(jiwer.cer(reference, hypothesis))


def asr_error_rates(ref: np.ndarray, est: np.ndarray, sr: int, *, text: str | None = None,
                    columns: tuple[str, ...] | None = None, recognizer: str | Any = DEFAULT_RECOGNIZER
                    ) -> dict[str, float]:
    """``asr_wer``/``asr_cer`` of the resynthesis and ``asr_wer_ref``/``asr_cer_ref`` of the reference.

    Lower is better; 0 is a perfect transcript, and insertions can push a rate above 1.
    ``columns`` (default: all four) picks which signals are transcribed; ``recognizer`` is
    ``pocketsphinx`` or ``whisper:<model>`` (see the module docstring).
    """
    rec = load_recognizer(recognizer)
    reference = normalize_text(text or "")
    if not reference:
        raise MetricError("asr: the transcript is empty after normalisation", metric="asr")
    signals = {"": est, "_ref": ref}
    out: dict[str, float] = {}
    for suffix in scored_signals(columns):
        wer, cer = _rates(reference, normalize_text(rec.transcribe(signals[suffix], sr)))
        out[f"asr_wer{suffix}"], out[f"asr_cer{suffix}"] = wer, cer
    return out
