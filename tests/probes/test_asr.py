"""ASR probe: vocabulary, upsampling rule, greedy decoding, packing, resume, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import ManifestError
from codecbench_utils.probes.asr import (
    BLANK,
    NUM_CHARS,
    build_ctc_probe,
    greedy_decode,
    labels_to_text,
    repeat_factor,
    text_to_labels,
    train_asr_probe,
)
from codecbench_utils.probes.config import load_probe_profile

#: Packed vs unpadded forward pass: same float32 kernels, different batch shapes.
PACKING_ATOL = 1e-5
#: Measured on the alphabet corpus (hidden 48, 300 steps, 2 CPU cores): selection and test WER
#: reach 0.0 by step ~250 (first below 1.0 at step ~200); the threshold leaves a wide margin.
LEARNED_WER = 0.5


def _reference_greedy(log_probs: np.ndarray, length: int) -> str:
    """The reference implementation's loop: skip blanks and repeats of the previous frame."""
    out, prev = [], None
    for i, p in enumerate(np.argmax(log_probs, axis=-1)):
        if i >= length:
            break
        if p != prev and p != BLANK:
            out.append(chr(int(p)))
        prev = p
    return "".join(out)


def test_vocabulary_is_the_references():
    assert NUM_CHARS == 256 and BLANK == 0
    assert text_to_labels("HE'S ok") == [ord(c) for c in "HE'S ok"]
    assert labels_to_text(text_to_labels("a b")) == "a b"
    with pytest.raises(ManifestError, match="vocabulary"):
        text_to_labels("naïve ☃")


@pytest.mark.parametrize("rate,k", [(12.5, 4), (25.0, 2), (40.0, 2), (50.0, 1), (75.0, 1), (86.13, 1), (6.25, 8)])
def test_repeat_factor_reaches_50_hz(rate, k):
    assert repeat_factor(rate) == k
    assert rate * k >= 50.0 and rate * (k - 1) < 50.0


def test_greedy_decode_matches_reference_loop(rng):
    lp = rng.standard_normal((6, 40, NUM_CHARS))
    lp[:, :, BLANK] += 2.0  # plenty of blanks, as after training
    lp[:, :, 97:101] += 1.5  # and a few letters
    lengths = rng.integers(1, 41, size=6)
    assert greedy_decode(lp, lengths) == [_reference_greedy(lp[b], lengths[b]) for b in range(6)]


def test_packed_lstm_ignores_padding(rng):
    import torch

    cfg = load_probe_profile("demo", "asr", hidden_size=8)
    torch.manual_seed(0)
    model = build_ctc_probe(5, cfg).eval()
    short = torch.from_numpy(rng.standard_normal((1, 7, 5)).astype(np.float32))
    padded = torch.zeros(2, 12, 5)
    padded[0, :7] = short[0]
    padded[1] = torch.from_numpy(rng.standard_normal((12, 5)).astype(np.float32))
    with torch.no_grad():
        alone = model(short, torch.tensor([7]))
        batched = model(padded, torch.tensor([7, 12]))
    np.testing.assert_allclose(batched[0, :7].numpy(), alone[0].numpy(), atol=PACKING_ATOL)


def test_probe_learns_the_alphabet(alphabet, alphabet_features, tmp_path):
    items, _ = alphabet
    cfg = load_probe_profile("demo", "asr", hidden_size=48, batch_size=4, eval_every=50, ckpt_every=100)
    res = train_asr_probe(alphabet_features, items, cfg, tmp_path, dataset="alpha", steps=300, progress=False)
    assert res.wer < LEARNED_WER, res
    assert res.cer <= res.wer + 1e-9 or res.cer < LEARNED_WER
    assert res.n_items == 12 and res.repeat == 1 and res.train_steps == 300
    import pandas as pd

    curve = pd.read_csv(res.curve_path)
    assert list(curve.columns[:4]) == ["step", "train_loss", "dev_loss", "dev_wer"]
    assert curve["step"].tolist() == [50, 100, 150, 200, 250, 300]
    assert curve["dev_loss"].iloc[-1] < curve["dev_loss"].iloc[0]
    assert "dev_cer" in curve.columns
    kept = curve.loc[curve["step"] == res.step]
    assert res.select_cer == pytest.approx(curve["dev_cer"].min())  # selected on held-out CER ...
    assert kept["dev_cer"].item() == pytest.approx(res.select_cer)
    assert kept["dev_wer"].item() == pytest.approx(res.select_wer)
    tied = curve[curve["dev_cer"] == curve["dev_cer"].min()]
    assert kept["dev_loss"].item() == pytest.approx(tied["dev_loss"].min())  # ... ties broken by loss
    assert res.selected_first_eval == (res.step == curve["step"].iloc[0])
    assert (tmp_path / "hypotheses.jsonl").is_file()


def test_selection_moves_off_the_blank_model():
    """A CTC model that emits only blanks has WER exactly 1.0; once it emits characters WER can exceed 1.0
    while CER falls. Selection on WER would keep the blank model; on CER it must not."""
    from codecbench_utils.probes.asr import is_better

    blank_cer, blank_loss = 1.0, 3.2  # WER 1.0
    assert is_better(0.8, 2.9, blank_cer, blank_loss)  # WER 1.3 here: worse by WER, better by CER
    assert is_better(1.0, 2.5, blank_cer, blank_loss)  # still all blanks, but a lower loss
    assert not is_better(1.0, 3.5, blank_cer, blank_loss)
    assert not is_better(float("nan"), 0.1, blank_cer, blank_loss)
    assert is_better(0.9, 9.9, float("inf"), float("inf"))


def test_resume_continues_exactly(alphabet, alphabet_features, tmp_path):
    import torch

    items, _ = alphabet
    cfg = load_probe_profile("demo", "asr", hidden_size=8, eval_every=10, ckpt_every=10, max_eval_items=4,
                             max_select_items=4)
    straight = train_asr_probe(alphabet_features, items, cfg, tmp_path / "a", steps=30, progress=False)
    train_asr_probe(alphabet_features, items, cfg, tmp_path / "b", steps=20, progress=False)
    resumed = train_asr_probe(alphabet_features, items, cfg, tmp_path / "b", steps=30, progress=False)
    assert resumed.train_steps == 30
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=False)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    assert resumed.wer == straight.wer
    # a changed config does not resume from another run's checkpoint
    other = load_probe_profile("demo", "asr", hidden_size=8, lr=1e-3, eval_every=10, ckpt_every=10,
                               max_eval_items=4, max_select_items=4)
    again = train_asr_probe(alphabet_features, items, other, tmp_path / "b", steps=10, progress=False)
    assert again.train_steps == 10


def test_missing_split_is_a_clear_error(alphabet, alphabet_features, tmp_path):
    items, _ = alphabet
    cfg = load_probe_profile("demo", "asr", eval_split="nope")
    with pytest.raises(ManifestError, match="no evaluation items"):
        train_asr_probe(alphabet_features, items, cfg, tmp_path, steps=1, progress=False)


def test_rows_record_the_effective_configuration_and_auto_splits(alphabet, alphabet_features, tmp_path):
    import json

    from codecbench_utils.probes.asr import resolve_splits

    items, _ = alphabet
    cfg = load_probe_profile("demo", "asr", hidden_size=24, eval_every=10, ckpt_every=10)
    res = train_asr_probe(alphabet_features, items, cfg, tmp_path, dataset="alpha", steps=10, progress=False)
    recorded = json.loads(res.config)
    assert recorded["hidden_size"] == 24 and recorded["steps"] == 10 and res.preset == "demo"
    libri = ["train-clean-100"] * 5 + ["train-clean-360"] * 9 + ["dev-clean"] * 2 + ["dev-other"] * 3 + \
        ["test-clean"] * 2
    auto = load_probe_profile("demo", "asr", train_split="auto", eval_split="auto", select_split="auto")
    assert resolve_splits(libri, auto) == ("train-clean-360", "test-clean", "dev-clean")
    assert resolve_splits(["train"] * 3 + ["dev", "test"], auto) == ("train", "test", "dev")
    assert resolve_splits(["train"] * 3 + ["dev"], auto) == ("train", "dev", None)  # dev evaluates; held-out selects


def test_an_override_to_none_is_honoured():
    assert load_probe_profile("demo", "asr").select_split == "dev"
    assert load_probe_profile("demo", "asr", select_split=None).select_split is None
