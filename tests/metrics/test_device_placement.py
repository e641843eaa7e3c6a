"""Every tensor of the batched kernels lives on the requested device (checked without a GPU).

On the ``meta`` device tensors have shapes but no data, and mixing them with a CPU tensor
raises the same error a CPU tensor in a CUDA computation would. So a kernel run on ``meta``
must get all the way to copying its result out (which ``meta`` cannot do) and fail only
there. STOI's kernel is not covered: its masks depend on the data (``nonzero``).
"""

from __future__ import annotations

import pytest

from codecbench_utils.metrics import mel_loss, mse, sc, sdr, si_sdr

KERNELS = {
    "mel_loss float64": (mel_loss.batched_mel_loss, {}),
    "mel_loss float32": (mel_loss.batched_mel_loss, {"precision": "float32"}),
    "mse": (mse.batched_mse, {}),
    "sc": (sc.batched_sc, {}),
    "si_sdr": (si_sdr.batched_si_sdr, {}),
    "si_sdr_paper": (si_sdr.batched_si_sdr_paper, {}),
    "sdr": (sdr.batched_sdr, {"_force_torch": True}),
}


@pytest.mark.parametrize("name", list(KERNELS))
def test_kernel_stays_on_the_requested_device(name, rng):
    fn, kw = KERNELS[name]
    refs = [0.1 * rng.standard_normal(n) for n in (8000, 12001)]
    ests = [r + 0.01 * rng.standard_normal(r.size) for r in refs]
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
        fn(refs, ests, 16000, device="meta", **kw)


def test_a_tensor_left_on_the_cpu_is_caught():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="device"):
        torch.ones(3, device="meta") + torch.ones(3)
