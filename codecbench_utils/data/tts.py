"""espeak-ng text-to-speech through ctypes, for the synthetic ``mini`` corpus.

The library and its voice data come from the ``espeakng-loader`` wheel
(``pip install espeakng-loader``), or else from a system ``libespeak-ng``
(``apt install espeak-ng``). We drive the C API directly:
``espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, ...)`` plus a synth callback
that collects the int16 samples, ``espeak_SetVoiceByName`` and
``espeak_SetParameter`` for rate, pitch, pitch range and volume.

espeak-ng keeps synthesis state in C statics that survive between utterances
and even ``espeak_Terminate``/``espeak_Initialize`` (the pitch-flutter index,
the waveform phase, the echo buffer), so the same call gives slightly
different samples depending on what was spoken before it in the process.
To make every utterance depend only on its own arguments we synthesize each
one in a forked child of a process that has initialized espeak but never
spoken (POSIX only; elsewhere we synthesize in-process and say so once).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import select
import signal
import struct
import threading
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InvalidAudioError, MissingDependencyError

__all__ = ["Espeak", "get_espeak", "INSTALL_HINT"]

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install espeakng-loader  (or: apt install espeak-ng)"

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_P_RATE, _P_VOLUME, _P_PITCH, _P_RANGE = 1, 2, 3, 4

#: seconds a forked synthesis may take before the child is killed
_CHILD_TIMEOUT_S = 120.0

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class Espeak:
    """A loaded, initialized libespeak-ng (one per process: the library is global).

    Parameters
    ----------
    library : str
        Path (or soname) of ``libespeak-ng``.
    data_path : str or None
        Folder holding ``espeak-ng-data`` (or that folder itself); ``None``
        uses the library's compiled-in default.
    isolate : bool
        Synthesize each utterance in a forked child so that its samples do not
        depend on earlier utterances (default where ``os.fork`` exists).
    """

    def __init__(self, library: str, data_path: str | None, *, isolate: bool | None = None) -> None:
        try:
            lib = ctypes.CDLL(library)
        except OSError as exc:
            raise MissingDependencyError(
                f"cannot load espeak-ng library '{library}': {exc}; {INSTALL_HINT}"
            ) from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        path = data_path.encode() if data_path is not None else None
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, path, _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise MissingDependencyError(
                f"espeak-ng failed to initialize (library '{library}', data '{data_path}'); {INSTALL_HINT}"
            )
        self.library = library
        self.data_path = data_path
        self.sample_rate = int(sr)
        self.isolate = hasattr(os, "fork") if isolate is None else bool(isolate)
        self._lib = lib
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds the pointer
        self._warned = False

    def _collect(self, wav, n: int, events) -> int:  # noqa: ANN001 - ctypes callback
        """Synth callback: copy ``n`` int16 samples; 0 means 'continue'."""
        if n > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, 2 * n))
        return 0

    def _speak(
        self, text: str, voice: str, rate: int, pitch: int, pitch_range: int, volume: int
    ) -> tuple[int, bytes]:
        """Run one synthesis in this process; returns (status, int16 bytes)."""
        lib = self._lib
        self._chunks = []
        lib.espeak_SetSynthCallback(self._callback)
        if hasattr(lib, "espeak_ng_SetRandSeed"):
            lib.espeak_ng_SetRandSeed(0)
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            return 2, b""
        for param, value in (
            (_P_RATE, rate),
            (_P_VOLUME, volume),
            (_P_PITCH, pitch),
            (_P_RANGE, pitch_range),
        ):
            lib.espeak_SetParameter(param, int(value), 0)
        data = text.encode("utf-8") + b"\0"
        if lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None) != 0:
            return 3, b""
        lib.espeak_Synchronize()
        return 0, b"".join(self._chunks)

    def _speak_forked(self, *args) -> tuple[int, bytes]:  # noqa: ANN002
        """Run :meth:`_speak` in a forked child that starts from the never-spoken state."""
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: no Python-level cleanup, no logging, just the bytes
            code = 1
            try:
                os.close(rfd)
                status, pcm = self._speak(*args)
                view = memoryview(struct.pack("<iQ", status, len(pcm)) + pcm)
                while view:
                    view = view[os.write(wfd, view) :]
                code = 0
            finally:
                os._exit(code)
        os.close(wfd)
        parts = []
        try:
            while True:
                ready, _, _ = select.select([rfd], [], [], _CHILD_TIMEOUT_S)
                if not ready:
                    os.kill(pid, signal.SIGKILL)
                    break
                chunk = os.read(rfd, 1 << 20)
                if not chunk:
                    break
                parts.append(chunk)
        finally:
            os.close(rfd)
            _, wait_status = os.waitpid(pid, 0)
        blob = b"".join(parts)
        if os.waitstatus_to_exitcode(wait_status) != 0 or len(blob) < 12:
            return 4, b""
        status, n = struct.unpack("<iQ", blob[:12])
        return status, blob[12 : 12 + n]

    def synthesize(
        self,
        text: str,
        *,
        voice: str = "en-us",
        rate: int = 175,
        pitch: int = 50,
        pitch_range: int = 50,
        volume: int = 100,
    ) -> np.ndarray:
        """Speak ``text`` and return float32 samples at :attr:`sample_rate`.

        Parameters
        ----------
        text : str
            UTF-8 text.
        voice : str
            espeak-ng voice name, optionally with a variant: ``"en-us"``,
            ``"en"`` (British), ``"de+m3"``, ``"fr+f2"``.
        rate : int
            Words per minute, 80..450 (espeak's default is 175).
        pitch, pitch_range : int
            Base pitch and pitch range, 0..100 (defaults 50).
        volume : int
            Amplitude, 0..200 (default 100).

        Returns
        -------
        np.ndarray, shape (time,), float32 in [-1, 1]

        Raises
        ------
        ValueError
            Unknown voice, or espeak produced no audio.
        RuntimeError
            The synthesis failed inside espeak.
        """
        args = (text, voice, rate, pitch, pitch_range, volume)
        with self._lock:
            if self.isolate:
                status, pcm = self._speak_forked(*args)
            else:
                if not self._warned:
                    warnings.warn(
                        "espeak-ng runs in-process (no os.fork here): an utterance's samples depend "
                        "slightly on the utterances synthesized before it",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    self._warned = True
                status, pcm = self._speak(*args)
        if status == 2:
            raise ConfigError(f"espeak-ng has no voice '{voice}'")
        if status != 0:
            raise RuntimeError(f"espeak-ng failed (status {status}) on voice '{voice}', text {text!r}")
        wav = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        if wav.size == 0:
            raise InvalidAudioError(f"espeak-ng produced no audio for voice '{voice}', text {text!r}")
        return wav


_ENGINE: Espeak | None = None
_ENGINE_LOCK = threading.Lock()


def _locate() -> tuple[str, str | None]:
    """Library and data path: the espeakng-loader wheel first, then the system library."""
    try:
        import espeakng_loader
    except ImportError:
        espeakng_loader = None
    if espeakng_loader is not None:
        lib = espeakng_loader.get_library_path()
        if Path(lib).is_file():
            return lib, espeakng_loader.get_data_path()
    lib = ctypes.util.find_library("espeak-ng")
    if lib is None:
        raise MissingDependencyError(
            "espeak-ng is needed to synthesize the speech parts of the 'mini' corpus but neither the "
            f"espeakng-loader wheel nor a system libespeak-ng was found; install one: {INSTALL_HINT}"
        )
    return lib, None


def get_espeak() -> Espeak:
    """The process-wide :class:`Espeak` (loaded and initialized on first use).

    Raises
    ------
    MissingDependencyError
        Neither ``espeakng-loader`` nor a system ``libespeak-ng`` is available.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            lib, data = _locate()
            _ENGINE = Espeak(lib, data)
            logger.debug("espeak-ng loaded from %s (data %s), %d Hz", lib, data, _ENGINE.sample_rate)
        return _ENGINE
