"""Classical codec baselines: FFmpeg encoders through PyAV, and Codec2 through pycodec2.

Both backends encode in memory (no temporary files, no container) and return
audio that is time-aligned with the input and exactly as long.

How the delay is removed
------------------------
*PyAV.* Every frame sent to the encoder carries its sample index as ``pts``
(time base ``1/sample_rate``). FFmpeg's audio encoders stamp their first packet
with ``pts = -initial_padding``: the encoder delay, priming and, for LAME, the
decoder's filterbank delay (Opus pre-skip 312 at 48 kHz, LAME 576 + 529 = 1105,
AAC priming 1024, G.722 QMF delay 22). The decoder is opened with
``AV_CODEC_FLAG2_SKIP_MANUAL``, so it drops nothing on its own (otherwise the
Opus and MP3 decoders would trim the start themselves, the others would not)
and passes each packet's ``pts`` on to the frame it decodes. Each decoded frame
is then written at its ``pts`` on the input's time line, which removes the
delay and pads or trims the end. The input is followed by one frame of zeros
so that encoders which keep samples back without flushing them (G.722) still
deliver the tail; packets that start at or after the input's end are not
counted in the bitrate.

Where FFmpeg's figure is wrong the spec overrides it (``options.delay_samples``):
FFmpeg's libopencore-amr wrapper says 50 for AMR-NB, whose delay is its 5 ms
lookahead, 40 samples (the phase of steady tones agrees to 0.4 samples). Opus
in its SILK and hybrid modes (6-24 kbps) is left with -3..+2 samples at 48 kHz:
the reference decoder's SILK upsampler does not match the pre-skip exactly,
and which mode is used changes with the signal.

*Codec2.* The library reports no delay; ``CODEC2_DELAY_SAMPLES`` holds the
delay that follows from its frame structure, checked in the tests on the energy
envelope of gated vowels. The input is zero-padded by that delay plus one
frame, so the tail is decoded too; only frames that hold input samples count
in the bitrate. Codec2 draws unvoiced phases from a process-global random
generator without a seeding API; it is reset before each decode so that the
output depends on the frames alone.

Bitrate
-------
``Encoded.n_bits`` is the size of what the encoder produced for the input:
the sum of the packet sizes (MP3 frame headers, the AMR table-of-contents byte
and Opus TOC bytes included; no container), or for Codec2 the frame bytes
(700C packs its 28 bits per frame into 4 bytes, so it reads 0.8 kbps).
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import check_audio
from ..errors import CodecRuntimeError, MissingDependencyError
from .base import Codec, CodecSpec, Encoded

__all__ = [
    "PyAVCodec",
    "Codec2Codec",
    "PacketStream",
    "CODEC2_MODES",
    "CODEC2_DELAY_SAMPLES",
    "SKIP_MANUAL",
]

logger = logging.getLogger(__name__)

#: ``AV_CODEC_FLAG2_SKIP_MANUAL`` (libavcodec/avcodec.h): the decoder keeps
#: the samples it would skip and only reports them as side data.
SKIP_MANUAL = 1 << 29

#: Sample formats we can feed an encoder, in order of preference (float first:
#: no quantization before the codec).
_ENCODER_FORMATS = ("flt", "fltp", "s16", "s16p", "s32", "s32p")

#: Codec2 modes by the ``mode`` option (the name Codec2 gives them) -> pycodec2 key.
CODEC2_MODES: dict[str, int] = {
    "3200": 3200,
    "2400": 2400,
    "1600": 1600,
    "1400": 1400,
    "1300": 1300,
    "1200": 1200,
    "700C": 700,
}

#: Delay (samples at 8 kHz) between a Codec2 mode's input and its decoded output.
#: Codec2 is a sinusoidal vocoder whose output phase is synthesized, so no
#: waveform reference exists; the values follow from the frame structure:
#:
#: The encoder analyses 10 ms sub-frames (80 samples) with a window centred
#: 160 samples before the newest input sample; the decoder overlap-adds each
#: sub-frame with a triangular window whose peak leaves the synthesis buffer
#: one sub-frame (80 samples) after the call that added it, i.e. 160 samples
#: after the analysis centre. 700C quantizes only the last sub-frame of each
#: 40 ms frame and its decoder interpolates sub-frame i from the previous
#: frame's last vector (weight 1 - i/4) to this frame's (weight i/4), which
#: lags one more sub-frame: 240. The lag of the 40 ms energy envelope of gated
#: synthetic vowels agrees within a few ms (five seeds: 147-167 for 3200,
#: 175-187 for 1200, 221-265 for 700C).
CODEC2_DELAY_SAMPLES: dict[str, int] = {
    "3200": 160,
    "2400": 160,
    "1600": 160,
    "1400": 160,
    "1300": 160,
    "1200": 160,
    "700C": 240,
}

CODEC2_SAMPLE_RATE = 8000

_NOT_HERE = "not in this PyAV build"


def _raise_if_unavailable(spec: CodecSpec, reason: str | None) -> None:
    """Turn an ``available()`` reason into the typed error: missing software vs a bad spec."""
    if reason is None:
        return
    if "is not installed" in reason or _NOT_HERE in reason:
        raise MissingDependencyError(f"codec '{spec.id}' cannot run here: {reason}", codec_id=spec.id)
    raise CodecRuntimeError(f"codec '{spec.id}' cannot run here: {reason}", codec_id=spec.id)


@dataclass
class PacketStream:
    """Encoder output kept in memory: packet payloads, their pts and the codec header.

    ``pts`` are in samples at ``sample_rate``; the first is minus the encoder delay.
    """

    packets: list[bytes]
    pts: list[int]
    extradata: bytes | None
    decoder: str

    @property
    def delay_samples(self) -> int:
        """Encoder delay in samples (minus the first packet's pts)."""
        return -self.pts[0] if self.pts else 0


def _to_float32(arr: np.ndarray) -> np.ndarray:
    """PCM from a decoded frame (any dtype) -> float32 in [-1, 1]."""
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    return (arr.astype(np.float64) / float(np.iinfo(arr.dtype).max + 1)).astype(np.float32)


def _from_float32(wav: np.ndarray, fmt: str) -> np.ndarray:
    """float32 in [-1, 1] -> the dtype an encoder asks for (integer formats are clipped)."""
    if fmt.startswith("flt"):
        return wav.astype(np.float32, copy=False)
    dtype = np.int16 if fmt.startswith("s16") else np.int32
    scale = float(np.iinfo(dtype).max + 1)
    return np.clip(np.round(wav.astype(np.float64) * scale), np.iinfo(dtype).min, np.iinfo(dtype).max).astype(
        dtype
    )


class PyAVCodec(Codec):
    """An FFmpeg audio encoder/decoder pair run through PyAV.

    ``spec.options``:

    ``encoder``
        FFmpeg encoder name (``libopus``, ``libmp3lame``, ``aac``, ``libopencore_amrnb``, ``g722``).
    ``decoder``
        FFmpeg decoder name; by default FFmpeg's default decoder for that codec.
    ``bit_rate``
        Target bitrate in bit/s; by default ``spec.kbps * 1000``.
    ``encoder_options``
        Private encoder options as FFmpeg spells them (e.g. ``{vbr: "on", application: audio}``).
    ``delay_samples``
        Only where FFmpeg's own ``initial_padding`` is known to be wrong: the true delay in
        samples between the input and the decoded output, used instead of the first packet's
        ``-pts`` (AMR-NB: FFmpeg says 50, the codec's 5 ms lookahead is 40).
    """

    PACKAGES = ("av",)

    def __init__(self, spec: CodecSpec, *, device: str = "cpu") -> None:
        super().__init__(spec, device=device)
        _raise_if_unavailable(spec, self.available(spec))
        opts = spec.options
        self.encoder_name: str = opts["encoder"]
        self.decoder_name: str = opts.get("decoder") or _decoder_for(self.encoder_name)
        self.bit_rate: int = int(opts.get("bit_rate") or round((spec.kbps or 0) * 1000))
        self.encoder_options: dict[str, str] = {
            str(k): str(v) for k, v in (opts.get("encoder_options") or {}).items()
        }
        delay = opts.get("delay_samples")
        self.delay_override: int | None = None if delay is None else int(delay)

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        try:
            import av
        except ImportError:
            return "package 'av' is not installed; install it with: pip install av"
        opts = spec.options or {}
        enc = opts.get("encoder")
        if not enc:
            return f"codec '{spec.id}': options.encoder is not set in params/codecs/{spec.id}.yaml"
        try:
            codec = av.Codec(enc, "w")
        except Exception:
            return (
                f"FFmpeg encoder '{enc}' is {_NOT_HERE} (av {av.__version__}); "
                "install a PyAV wheel whose FFmpeg includes it"
            )
        dec = opts.get("decoder") or codec.canonical_name
        try:
            av.Codec(dec, "r")
        except Exception:
            return f"FFmpeg decoder '{dec}' is {_NOT_HERE} (av {av.__version__})"
        rates = codec.audio_rates
        if rates and spec.sample_rate not in rates:
            return f"encoder '{enc}' does not support {spec.sample_rate} Hz; supported: {list(rates)}"
        fmts = [f.name for f in codec.audio_formats or ()]
        if fmts and not any(f in fmts for f in _ENCODER_FORMATS):
            return f"encoder '{enc}' takes none of the sample formats {_ENCODER_FORMATS}; it takes {fmts}"
        wanted = set((opts.get("encoder_options") or {}).keys())
        if wanted:
            supported = av.CodecContext.create(codec).supported_options
            known = {o.name for o in (*supported.generic, *supported.private)}
            unknown = sorted(wanted - known)
            if unknown:
                private = sorted(o.name for o in supported.private)
                return (
                    f"codec '{spec.id}': encoder '{enc}' has no option(s) {unknown} "
                    f"(FFmpeg would ignore them silently); its private options: {private}"
                )
        return None

    # -- encoding -----------------------------------------------------------------------------

    def _open_encoder(self) -> Any:
        import av

        codec = av.Codec(self.encoder_name, "w")
        ctx = av.CodecContext.create(codec)
        ctx.sample_rate = self.sample_rate
        ctx.layout = "mono"
        fmts = [f.name for f in codec.audio_formats or ()]
        ctx.format = next((f for f in _ENCODER_FORMATS if f in fmts), "flt") if fmts else "flt"
        ctx.time_base = Fraction(1, self.sample_rate)
        if self.bit_rate:
            ctx.bit_rate = self.bit_rate
        if self.encoder_options:
            ctx.options = dict(self.encoder_options)
        try:
            ctx.open()
        except Exception as exc:
            raise CodecRuntimeError(
                f"codec '{self.id}': cannot open encoder '{self.encoder_name}' at {self.sample_rate} Hz, "
                f"{self.bit_rate} bit/s, options {self.encoder_options}: {exc}",
                codec_id=self.id,
            ) from exc
        return ctx

    def encode(self, wav: np.ndarray) -> Encoded:
        """Encode mono float audio at ``sample_rate`` into FFmpeg packets (in memory).

        Raises
        ------
        InvalidAudioError
            ``wav`` is empty, not 1-D or holds NaN/inf.
        CodecRuntimeError
            The encoder cannot be opened or fails.
        """
        import av

        wav = check_audio(wav, what=f"codec '{self.id}' input")
        n = wav.shape[0]
        ctx = self._open_encoder()
        fmt = ctx.format.name
        frame_size = ctx.frame_size or 1024
        # one frame of zeros after the signal flushes what the encoder holds back (G.722)
        padded = np.concatenate([wav, np.zeros(frame_size, dtype=np.float32)])
        pcm = _from_float32(padded, fmt)
        packets: list[bytes] = []
        pts: list[int] = []

        def collect(pkts: list[Any]) -> None:
            for p in pkts:
                if p.pts is None:
                    raise CodecRuntimeError(f"codec '{self.id}': encoder gave a packet without pts", codec_id=self.id)
                packets.append(bytes(p))
                pts.append(int(p.pts))

        try:
            for start in range(0, pcm.shape[0], frame_size):
                chunk = np.ascontiguousarray(pcm[None, start : start + frame_size])
                frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
                frame.sample_rate = self.sample_rate
                frame.pts = start
                frame.time_base = Fraction(1, self.sample_rate)
                collect(ctx.encode(frame))
            collect(ctx.encode(None))
        except CodecRuntimeError:
            raise
        except Exception as exc:
            raise CodecRuntimeError(f"codec '{self.id}': encoder '{self.encoder_name}' failed: {exc}",
                                    codec_id=self.id) from exc
        extradata = bytes(ctx.extradata) if ctx.extradata_size else None
        if not packets:
            raise CodecRuntimeError(f"codec '{self.id}': encoder produced no packets for {n} samples",
                                    codec_id=self.id)
        # bitrate: packets that start before the input ends (later ones only carry our padding)
        n_bits = 8 * sum(len(b) for b, p in zip(packets, pts, strict=True) if p < n)
        stream = PacketStream(packets, pts, extradata, self.decoder_name)
        return Encoded(codes=stream, n_samples=n, sample_rate=self.sample_rate, n_bits=n_bits)

    # -- decoding -----------------------------------------------------------------------------

    def decode(self, encoded: Encoded) -> np.ndarray:
        """Decode packets and place each frame at its pts: output aligned with the input, same length."""
        import av

        stream: PacketStream = encoded.codes
        n = encoded.n_samples
        sr = self.sample_rate
        ctx = av.CodecContext.create(stream.decoder, "r")
        ctx.sample_rate = sr
        ctx.layout = "mono"
        ctx.flags2 = ctx.flags2 | SKIP_MANUAL
        if stream.extradata:
            ctx.extradata = stream.extradata
        out = np.zeros(n, dtype=np.float32)
        tb = Fraction(1, sr)
        # frame at pts p holds input time p + offset (offset 0 unless FFmpeg's delay is overridden)
        offset = 0 if self.delay_override is None else stream.delay_samples - self.delay_override
        cursor = stream.pts[0] if stream.pts else 0  # fallback position when a frame has no pts

        def place(frames: list[Any]) -> None:
            nonlocal cursor
            for fr in frames:
                if fr.sample_rate != sr:
                    raise CodecRuntimeError(
                        f"codec '{self.id}': decoder '{stream.decoder}' gave {fr.sample_rate} Hz, expected {sr} Hz",
                        codec_id=self.id,
                    )
                data = _to_float32(fr.to_ndarray()).reshape(-1)
                pos = int(fr.pts) if fr.pts is not None else cursor
                cursor = pos + data.shape[0]
                start = pos + offset
                lo, hi = max(start, 0), min(start + data.shape[0], n)
                if hi > lo:
                    out[lo:hi] = data[lo - start : hi - start]

        try:
            for payload, p in zip(stream.packets, stream.pts, strict=True):
                pkt = av.Packet(payload)
                pkt.pts = p
                pkt.dts = p
                pkt.time_base = tb
                place(ctx.decode(pkt))
            place(ctx.decode(None))
        except CodecRuntimeError:
            raise
        except Exception as exc:
            raise CodecRuntimeError(f"codec '{self.id}': decoder '{stream.decoder}' failed: {exc}",
                                    codec_id=self.id) from exc
        return out


def _decoder_for(encoder: str) -> str:
    """FFmpeg's default decoder for the codec an encoder writes (``libmp3lame`` -> ``mp3float``)."""
    import av

    return av.Codec(av.Codec(encoder, "w").canonical_name, "r").name


#: First value of ``codec2_rand()`` after its state is set to 1 (C ``rand()``'s classic LCG:
#: state = state * 1103515245 + 12345, value = state / 65536 % 32768).
_CODEC2_RAND_FIRST = 16838
_CODEC2_LOCK = threading.Lock()


def _elf_symbols(path: str, names: set[str]) -> dict[str, tuple[int, int]]:
    """``{name: (st_value, st_size)}`` from the ``.symtab`` of a 64-bit little-endian ELF file."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found: dict[str, tuple[int, int]] = {}
    for sec in sections:
        if sec[1] != 2:  # SHT_SYMTAB (local symbols such as codec2_rand's `next` live only here)
            continue
        str_off = sections[sec[6]][4]
        for off in range(sec[4], sec[4] + sec[5], 24):
            st_name, _info, _other, _shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
            end = data.index(b"\0", str_off + st_name)
            name = data[str_off + st_name : end].decode("ascii", "replace")
            if name in names and name not in found:
                found[name] = (value, size)
    return found


@functools.lru_cache(maxsize=1)
def _codec2_rand_state() -> Any:
    """The ctypes view of ``codec2_rand``'s static state in the loaded libcodec2, or None.

    Codec2 draws the phases of unvoiced harmonics (and its post-filter noise) from a
    process-global generator with no seeding API, so without a reset the same frames
    decode differently on every call. We locate the static ``next`` through the
    library's symbol table, reset it, and check that ``codec2_rand()`` then returns
    the generator's known first value.
    """
    import ctypes

    import pycodec2  # noqa: F401  (maps libcodec2 into the process)

    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "libcodec2" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            syms = _elf_symbols(path, {"next", "codec2_rand"})
            if "next" not in syms or "codec2_rand" not in syms or syms["next"][1] not in (4, 8):
                continue
            lib = ctypes.CDLL(path)
            func_addr = ctypes.cast(lib.codec2_rand, ctypes.c_void_p).value
            if func_addr is None:
                continue
            base = func_addr - syms["codec2_rand"][0]
            ctype = ctypes.c_uint64 if syms["next"][1] == 8 else ctypes.c_uint32
            state = ctype.from_address(base + syms["next"][0])
            saved = state.value
            state.value = 1
            lib.codec2_rand.restype = ctypes.c_int
            ok = lib.codec2_rand() == _CODEC2_RAND_FIRST
            state.value = saved if not ok else 1
            if ok:
                return state
        except (OSError, ValueError, AttributeError, struct.error):
            continue
    return None


def _reset_codec2_rand(codec_id: str) -> None:
    """Seed Codec2's global generator so that decoding is a function of the frames alone."""
    state = _codec2_rand_state()
    if state is None:
        warnings.warn(
            f"codec '{codec_id}': cannot reset Codec2's internal random generator in this build; "
            "unvoiced sounds will decode slightly differently on every call",
            stacklevel=3,
        )
        return
    state.value = 1


class Codec2Codec(Codec):
    """Codec2 (David Rowe's low-rate speech vocoder) through the pycodec2 wheel, 8 kHz.

    ``spec.options.mode`` is one of ``CODEC2_MODES`` (``"3200"``, ``"1200"``, ``"700C"``, ...).
    """

    PACKAGES = ("pycodec2",)

    def __init__(self, spec: CodecSpec, *, device: str = "cpu") -> None:
        super().__init__(spec, device=device)
        _raise_if_unavailable(spec, self.available(spec))
        self.mode = str(spec.options["mode"])
        self.delay_samples = CODEC2_DELAY_SAMPLES[self.mode]

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        try:
            import pycodec2  # noqa: F401
        except ImportError:
            return "package 'pycodec2' is not installed; install it with: pip install pycodec2"
        mode = str((spec.options or {}).get("mode", ""))
        if mode not in CODEC2_MODES:
            return f"codec '{spec.id}': options.mode '{mode}' is not a Codec2 mode; known: {list(CODEC2_MODES)}"
        if spec.sample_rate != CODEC2_SAMPLE_RATE:
            return f"codec '{spec.id}': Codec2 runs at {CODEC2_SAMPLE_RATE} Hz, the spec says {spec.sample_rate}"
        return None

    def _state(self) -> Any:
        import pycodec2

        return pycodec2.Codec2(CODEC2_MODES[self.mode])

    def encode(self, wav: np.ndarray) -> Encoded:
        """Encode 8 kHz mono audio into Codec2 frames (one ``bytes`` per frame)."""
        wav = check_audio(wav, what=f"codec '{self.id}' input")
        n = wav.shape[0]
        c2 = self._state()
        spf = c2.samples_per_frame()
        n_frames = -(-(n + self.delay_samples) // spf)  # enough frames to decode the whole input
        pcm = np.zeros(n_frames * spf, dtype=np.int16)
        pcm[:n] = _from_float32(wav, "s16")
        # pycodec2's encode/decode handle exactly one frame per call
        frames = [bytes(c2.encode(pcm[i * spf : (i + 1) * spf])) for i in range(n_frames)]
        n_input_frames = -(-n // spf)
        n_bits = 8 * sum(len(f) for f in frames[:n_input_frames])
        return Encoded(codes=frames, n_samples=n, sample_rate=self.sample_rate, n_bits=n_bits)

    def decode(self, encoded: Encoded) -> np.ndarray:
        """Decode Codec2 frames; the mode's delay is removed and the length matches the input.

        Deterministic: Codec2's global random generator is reset first (see ``_codec2_rand_state``).
        """
        c2 = self._state()
        with _CODEC2_LOCK:
            _reset_codec2_rand(self.id)
            pcm = np.concatenate([np.asarray(c2.decode(f), dtype=np.int16) for f in encoded.codes])
        out = _to_float32(pcm)[self.delay_samples : self.delay_samples + encoded.n_samples]
        if out.shape[0] < encoded.n_samples:
            out = np.pad(out, (0, encoded.n_samples - out.shape[0]))
        return out
