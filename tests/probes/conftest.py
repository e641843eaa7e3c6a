"""Tiny generated corpora for the probe tests (seeded, written to tmp_path, never committed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.manifest import ManifestItem

SR = 16000
#: A synthetic "alphabet": each letter is a tone of its own pitch, a space is near-silence.
#: Transcripts are random letter strings, so a probe that learns them has learnt to align
#: characters to frames, which is what CTC must do on speech.
LETTERS = "abcd"
FREQS = {c: 300.0 * 1.5**i for i, c in enumerate(LETTERS)}


def _say(text: str, rng: np.random.Generator) -> np.ndarray:
    segs = [np.zeros(400)]
    for c in text:
        n = int(SR * rng.uniform(0.07, 0.11))
        if c == " ":
            segs.append(0.003 * rng.standard_normal(n))
        else:
            t = np.arange(n) / SR
            segs.append(0.3 * np.sin(2 * np.pi * FREQS[c] * t) * np.hanning(n) + 0.003 * rng.standard_normal(n))
    segs.append(np.zeros(400))
    return np.concatenate(segs).astype(np.float32)


def make_alphabet_corpus(root: Path, *, n_train: int = 60, n_dev: int = 10, n_test: int = 12,
                         seed: int = 0) -> list[ManifestItem]:
    """Speech stand-in with ``text`` and ``split``: tone 'words' of 1-3 letters, 1-3 words each."""
    rng = np.random.default_rng(seed)
    items = []
    for split, n in (("train", n_train), ("dev", n_dev), ("test", n_test)):
        for k in range(n):
            words = ["".join(rng.choice(list(LETTERS), size=rng.integers(1, 4))) for _ in range(rng.integers(1, 4))]
            text = " ".join(words)
            wav = _say(text, rng)
            iid = f"alpha/{split}/{k:03d}"
            path = root / f"{iid}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, wav, SR)
            items.append(ManifestItem(id=iid, dataset="alpha_speech", category="speech", path=f"{iid}.wav",
                                      duration=len(wav) / SR, sample_rate=SR, split=split, text=text))
    return items


def make_tone_classes(root: Path, *, n_per_class: int = 20, seed: int = 0) -> list[ManifestItem]:
    """Three classes (low tone, high tone, noise) of random length, folds 1-5 by index."""
    rng = np.random.default_rng(seed)
    items = []
    for label in ("low", "high", "noise"):
        for k in range(n_per_class):
            n = int(SR * rng.uniform(0.3, 0.8))
            t = np.arange(n) / SR
            if label == "noise":
                wav = 0.1 * rng.standard_normal(n)
            else:
                f = rng.uniform(200, 300) if label == "low" else rng.uniform(1500, 2500)
                wav = 0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(n)
            iid = f"tones/{label}/{k:02d}"
            path = root / f"{iid}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, wav.astype(np.float32), SR)
            items.append(ManifestItem(id=iid, dataset="tones", category="sound", path=f"{iid}.wav",
                                      duration=n / SR, sample_rate=SR, label=label, fold=k % 5 + 1,
                                      split=f"fold{k % 5 + 1}"))
    return items


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models: one thread is fastest, and it avoids oversubscribing a shared CI machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def alphabet(tmp_path_factory):
    root = tmp_path_factory.mktemp("alpha")
    return make_alphabet_corpus(root), root


@pytest.fixture(scope="session")
def tones(tmp_path_factory):
    root = tmp_path_factory.mktemp("tones")
    return make_tone_classes(root), root


@pytest.fixture(scope="session")
def alphabet_features(alphabet, tmp_path_factory):
    from codecbench_utils.probes.cache import extract_features
    from codecbench_utils.probes.features import make_extractor

    items, root = alphabet
    return extract_features(make_extractor("logmel:original", manifest_dir=root), items,
                            tmp_path_factory.mktemp("cache"), progress=False)


@pytest.fixture(scope="session")
def tone_features(tones, tmp_path_factory):
    from codecbench_utils.probes.cache import extract_features
    from codecbench_utils.probes.features import make_extractor

    items, root = tones
    return extract_features(make_extractor("logmel:original", manifest_dir=root), items,
                            tmp_path_factory.mktemp("cache"), progress=False)
