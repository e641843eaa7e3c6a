"""``torchaudio.functional.resample`` reimplemented on plain torch.

The paper's reference code resamples every file to 16 kHz with
``torchaudio.functional.resample`` at its defaults (windowed sinc, Hann window,
``lowpass_filter_width=6``, ``rolloff=0.99``) before computing any metric. torchaudio is not
a dependency here (its wheels pin their own torch), so this module rebuilds the same
polyphase kernel with the same torch operations in the same order and applies it with the
same strided ``conv1d``; on the same device and dtype the output equals torchaudio's.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np

from ..errors import InvalidAudioError

__all__ = ["RESAMPLE_VERSION", "resample_torchaudio", "resample_torchaudio_tensor"]

#: Recorded in result rows: which resampler produced the 16 kHz signals.
RESAMPLE_VERSION = "torchaudio.functional.resample(sinc_interp_hann) reimplementation, torchaudio 2.x semantics"

#: torchaudio's defaults: zero crossings of the sinc kept on each side, and cutoff / Nyquist.
LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def _check_rate(value: int, name: str) -> int:
    """Return a positive integer rate or raise InvalidAudioError (torchaudio needs int rates)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) <= 0:
        raise InvalidAudioError(f"resample: {name} must be a positive integer in Hz, got {value!r}")
    return int(value)


@functools.lru_cache(maxsize=64)
def _kernel(orig: int, new: int, lowpass_filter_width: int, rolloff: float, dtype_name: str, device: str):
    """Polyphase kernel ``(new, 1, 2 * width + orig)`` and ``width`` for already gcd-reduced rates.

    Mirrors torchaudio's ``_get_sinc_resample_kernel`` with ``sinc_interp_hann``: the time grid is
    built in the waveform's dtype (float32 for float32 audio), so rounding matches torchaudio's.
    """
    import torch

    dtype = getattr(torch, dtype_name)
    base_freq = min(orig, new) * rolloff
    width = math.ceil(lowpass_filter_width * orig / base_freq)
    idx = torch.arange(-width, width + orig, dtype=dtype, device=device)[None, None] / orig
    t = torch.arange(0, -new, -1, dtype=dtype, device=device)[:, None, None] / new + idx
    t *= base_freq
    t = t.clamp_(-lowpass_filter_width, lowpass_filter_width)
    window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    t *= math.pi
    scale = base_freq / orig
    kernels = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    kernels *= window * scale
    return kernels, width


def resample_torchaudio_tensor(
    wav,
    orig_sr: int,
    new_sr: int,
    *,
    lowpass_filter_width: int = LOWPASS_FILTER_WIDTH,
    rolloff: float = ROLLOFF,
):
    """Resample a float tensor ``(..., time)`` exactly like ``torchaudio.functional.resample``.

    Parameters
    ----------
    wav : torch.Tensor, shape (..., time)
        Floating-point audio; the computation runs in its dtype and on its device.
    orig_sr, new_sr : int
        Sample rates in Hz.
    lowpass_filter_width : int, keyword-only
        Zero crossings of the windowed sinc kept on each side (torchaudio default 6).
    rolloff : float, keyword-only
        Filter cutoff as a fraction of the lower Nyquist frequency (torchaudio default 0.99).

    Returns
    -------
    torch.Tensor, shape (..., ceil(new_sr * time / orig_sr))
        The input itself when the rates are equal (as torchaudio does).

    Raises
    ------
    InvalidAudioError
        Non-positive or non-integer rates, a non-float tensor, or an empty time axis.
    """
    import torch

    orig_sr = _check_rate(orig_sr, "orig_sr")
    new_sr = _check_rate(new_sr, "new_sr")
    if not torch.is_tensor(wav) or not wav.is_floating_point():
        raise InvalidAudioError(f"resample: expected a floating-point tensor, got {type(wav).__name__}")
    if lowpass_filter_width <= 0:
        raise InvalidAudioError(f"resample: lowpass_filter_width must be positive, got {lowpass_filter_width}")
    if orig_sr == new_sr:
        return wav
    if wav.ndim == 0 or wav.shape[-1] == 0:
        raise InvalidAudioError(f"resample: audio is empty (shape {tuple(wav.shape)})")
    gcd = math.gcd(orig_sr, new_sr)
    orig, new = orig_sr // gcd, new_sr // gcd
    dtype_name = str(wav.dtype).removeprefix("torch.")
    kernel, width = _kernel(orig, new, int(lowpass_filter_width), float(rolloff), dtype_name, str(wav.device))
    shape = wav.shape
    flat = wav.reshape(-1, shape[-1])
    n_wavs, length = flat.shape
    padded = torch.nn.functional.pad(flat, (width, width + orig))
    out = torch.nn.functional.conv1d(padded[:, None], kernel, stride=orig)
    out = out.transpose(1, 2).reshape(n_wavs, -1)
    target_length = math.ceil(new * length / orig)
    out = out[..., :target_length]
    return out.reshape(shape[:-1] + out.shape[-1:])


def resample_torchaudio(
    wav: np.ndarray,
    orig_sr: int,
    new_sr: int,
    *,
    precision: Literal["float32", "float64"] = "float32",
    lowpass_filter_width: int = LOWPASS_FILTER_WIDTH,
    rolloff: float = ROLLOFF,
    device: str = "cpu",
) -> np.ndarray:
    """Resample NumPy audio ``(..., time)`` as the paper's reference code does.

    Windowed-sinc (Hann) band-limited interpolation, computed as a polyphase strided
    convolution after reducing ``orig_sr / new_sr`` by their gcd; identical to
    ``torchaudio.functional.resample(torch.from_numpy(wav).float(), orig_sr, new_sr)``.

    Parameters
    ----------
    wav : np.ndarray, shape (..., time)
        Audio at ``orig_sr``.
    orig_sr, new_sr : int
        Sample rates in Hz.
    precision : {"float32", "float64"}, keyword-only
        Dtype of the computation and of the result. ``"float32"`` (default) is what the
        reference does (it casts with ``.float()`` before resampling); ``"float64"`` is the
        same filter with less rounding.
    lowpass_filter_width, rolloff : keyword-only
        torchaudio's filter parameters (defaults 6 and 0.99).
    device : str, keyword-only
        Torch device to run on (``"cpu"``, ``"cuda"``, ...).

    Returns
    -------
    np.ndarray, shape (..., ceil(new_sr * time / orig_sr))
        Of dtype ``precision``; when the rates are equal the input is returned unchanged
        (the reference only resamples when they differ, so its dtype is kept too).

    Raises
    ------
    InvalidAudioError
        Empty or non-float audio, or bad rates.

    Notes
    -----
    Reproduced from torchaudio's ``functional.py`` (``resample``,
    ``_get_sinc_resample_kernel``, ``_apply_sinc_resample_kernel``): rates divided by their
    gcd; ``base_freq = min(orig, new) * rolloff``; ``width = ceil(6 * orig / base_freq)``;
    kernel row ``j`` = ``sinc(pi * base_freq * (i / orig - j / new)) * cos^2`` Hann window
    clamped to +-6 zero crossings, scaled by ``base_freq / orig``, with the time grid built in
    the waveform's dtype; input zero-padded by ``width`` left and ``width + orig`` right;
    ``conv1d`` with stride ``orig``; phases interleaved; output cut to
    ``ceil(new * time / orig)`` samples. The reference code calls this through
    ``utils/helpers.py::resample_on_gpu`` on CUDA; float32 conv1d on another device may
    differ from CPU in the last bits.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(2 * np.pi * 440 * np.arange(24000) / 24000)
    >>> y = resample_torchaudio(x, 24000, 16000)
    >>> y.shape, y.dtype
    ((16000,), dtype('float32'))
    """
    import torch

    if precision not in ("float32", "float64"):
        raise InvalidAudioError(f"resample: precision must be 'float32' or 'float64', got {precision!r}")
    arr = np.asarray(wav)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidAudioError(f"resample: expected real audio, got dtype {arr.dtype}")
    orig_sr = _check_rate(orig_sr, "orig_sr")
    new_sr = _check_rate(new_sr, "new_sr")
    if orig_sr == new_sr:
        return arr
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise InvalidAudioError(f"resample: audio is empty (shape {arr.shape})")
    x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.dtype(precision))).to(device)
    with torch.no_grad():
        y = resample_torchaudio_tensor(
            x, orig_sr, new_sr, lowpass_filter_width=lowpass_filter_width, rolloff=rolloff
        )
    return y.cpu().numpy()
