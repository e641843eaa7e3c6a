"""``compute_metrics(profile="paper")`` against the reference code's chain, item by item.

What the reference does per metric (read with soundfile, resample to 16 kHz in float32
where the file is not at 16 kHz, truncate to the shorter signal, then its metric code),
re-run here with the re-written reference functions of each metric's test module, on pairs
like those a codec produces: same rate, a 24 kHz estimate for a 16 kHz reference, 44.1 kHz
music. The tolerances are those the paper comparison is held to: 1e-3 relative, PESQ to
1e-4, SDR to 0.01 dB. The resampler itself is checked against torchaudio's formula in
``test_resample.py``; here it only feeds both sides the same 16 kHz audio.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from codecbench_utils.metrics.compute import compute_metrics
from codecbench_utils.metrics.resample import resample_torchaudio

from .test_mel_loss import _reference_mel_loss
from .test_mse import _reference_mse
from .test_pesq import _reference_pesq
from .test_sc import _reference_sc
from .test_sdr import _reference_sdr
from .test_si_sdr import _reference_si_sdr_paper
from .test_stoi import _reference_stoi_paper

METRICS = ("mel_loss", "mse", "pesq_nb", "pesq_wb", "sc", "sdr", "si_sdr", "stoi")
RTOL = 1e-3
PESQ_ATOL = 1e-4
SDR_ATOL_DB = 0.01


def _codec(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A lossy-codec stand-in: band limit, a little noise, a 2-sample delay."""
    b, a = scipy.signal.butter(6, min(7000, 0.45 * sr) / (sr / 2))
    y = scipy.signal.lfilter(b, a, x) + 0.005 * rng.standard_normal(x.size)
    return np.r_[np.zeros(2), y[:-2]].astype(np.float32)


@pytest.fixture
def pairs(tmp_path, signal, rng):
    ref_dir, est_dir = tmp_path / "ref", tmp_path / "est"
    ref_dir.mkdir()
    est_dir.mkdir()
    x = signal(rng, 16000, 1.5)
    sf.write(ref_dir / "native16.wav", x, 16000, subtype="PCM_16")
    sf.write(est_dir / "native16.flac", _codec(x, 16000, rng), 16000)
    y = signal(rng, 16000, 1.3)
    sf.write(ref_dir / "est24k.wav", y, 16000, subtype="PCM_16")
    y24 = resample_torchaudio(y, 16000, 24000)
    sf.write(est_dir / "est24k.wav", _codec(y24, 24000, rng)[:-37], 24000, subtype="FLOAT")
    m = signal(rng, 44100, 1.2)
    sf.write(ref_dir / "music44k.wav", m, 44100, subtype="PCM_16")
    sf.write(est_dir / "music44k.flac", _codec(m, 44100, rng), 44100)
    return ref_dir, est_dir


def _reference_pair(ref_path, est_path):
    """The reference's loading: soundfile float64, float32 resampling to 16 kHz where needed, truncation."""
    out = []
    for path in (ref_path, est_path):
        x, sr = sf.read(path)
        out.append(resample_torchaudio(x.astype(np.float32), sr, 16000) if sr != 16000 else x)
    n = min(out[0].size, out[1].size)
    return out[0][:n], out[1][:n]


@pytest.mark.parametrize("workers", [0, 1])
def test_paper_rows_equal_the_reference_chain(pairs, workers):
    import torch

    ref_dir, est_dir = pairs
    df = compute_metrics(ref_dir, est_dir, profile="paper", metrics=",".join(METRICS), workers=workers,
                         progress=False).set_index("item")
    assert list(df.index) == ["est24k", "music44k", "native16"] and (df["status"] == "ok").all()
    for item in df.index:
        est_path = next(est_dir.glob(f"{item}.*"))
        r, e = _reference_pair(ref_dir / f"{item}.wav", est_path)
        row = df.loc[item]
        expected = {
            "mel_loss": _reference_mel_loss(r, e, 16000, torch.float32),
            "mse": _reference_mse(r, e, 16000),
            "sc": _reference_sc(r, e, 16000),
            "si_sdr": _reference_si_sdr_paper(r, e, 16000),
            "stoi": _reference_stoi_paper(r, e, 16000),
        }
        for metric, value in expected.items():
            np.testing.assert_allclose(row[metric], value, rtol=RTOL, err_msg=f"{item} {metric}")
        for mode in ("nb", "wb"):
            np.testing.assert_allclose(row[f"pesq_{mode}"], _reference_pesq(r, e, 16000, mode), rtol=0,
                                       atol=PESQ_ATOL, err_msg=f"{item} pesq_{mode}")
        np.testing.assert_allclose(row["sdr"], _reference_sdr(r, e, 16000), rtol=0, atol=SDR_ATOL_DB,
                                   err_msg=f"{item} sdr")
