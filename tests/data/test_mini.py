"""The synthetic ``mini`` corpus: contents, annotations, determinism, reuse, subsets, sizes.

The corpus is generated once per module (small size, about 8 s of CPU) and a
second time, subset by subset in reverse order, to check that every item depends
only on its id.
"""

from __future__ import annotations

import filecmp
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data import mini, tts
from codecbench_utils.data.manifest import read_manifest, resolve_path
from codecbench_utils.data.mini import plan as _plan  # noqa: F401  (mini.plan, mini.synth)
from codecbench_utils.data.registry import prepare_dataset
from codecbench_utils.errors import MissingDependencyError, UnknownNameError

#: Folds of the classification sets (CodecBench numbers folds 1..5).
FOLDS = {1, 2, 3, 4, 5}
CLASS_SETS = {
    "mini_emotion": set(mini.STYLES),
    "mini_instrument": set(mini.INSTRUMENTS),
    "mini_chord": set(mini.CHORDS),
    "mini_sound": set(mini.SOUND_CLASSES),
    "mini_mix": set(mini.MIX_KINDS),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(root, manifest path, items) of the default corpus, manifest inside the root."""
    root = tmp_path_factory.mktemp("mini_a").resolve()
    out = root / "mini.jsonl"
    items = mini.prepare_mini(root, out=out, progress=False)
    return root, out, items


def _by_dataset(items):
    out: dict[str, list] = {}
    for it in items:
        out.setdefault(it.dataset, []).append(it)
    return out


# ---------------------------------------------------------------- contents
def test_all_parts_and_categories_present(corpus):
    _, _, items = corpus
    counts = Counter(it.dataset for it in items)
    assert counts == {
        "mini_speech": 192,
        "mini_emotion": 48,
        "mini_instrument": 60,
        "mini_chord": 24,
        "mini_sound": 60,
        "mini_mix": 10,
    }
    assert {it.category for it in items} == {"speech", "music", "sound", "general"}
    assert [it.id for it in items] == sorted(it.id for it in items)
    for it in items:
        assert it.id.startswith("mini/") and it.id == "mini/" + Path(it.path).with_suffix("").as_posix()


def test_speech_annotations(corpus):
    _, _, items = corpus
    speech = _by_dataset(items)["mini_speech"]
    speakers = {mini.synth._speaker_name(v) for v, _, _ in mini.ASR_SPEAKERS}
    assert {it.speaker for it in speech} == speakers
    assert Counter(it.split for it in speech) == {"train": 128, "dev": 32, "test": 32}
    for split in ("train", "dev", "test"):  # speakers overlap across splits, as documented
        assert {it.speaker for it in speech if it.split == split} == speakers
    texts = [it.text for it in speech]
    assert len(set(texts)) == len(texts)
    for it in speech:
        assert it.text and it.text == mini.normalize_text(it.text)
        assert set(it.text) <= set("abcdefghijklmnopqrstuvwxyz' ")
        assert it.label is None and it.fold is None and it.extra["voice"].replace("+", "_") == it.speaker
        assert it.sample_rate == 16000 and 1.0 < it.duration < 5.0


def test_classification_annotations(corpus):
    _, _, items = corpus
    by = _by_dataset(items)
    for ds, labels in CLASS_SETS.items():
        rows = by[ds]
        assert {it.label for it in rows} == labels, ds
        for lab in labels:  # stratified: every label in every fold, counts within one
            per_fold = Counter(it.fold for it in rows if it.label == lab)
            assert set(per_fold) == FOLDS or len(per_fold) == sum(per_fold.values()), (ds, lab)
            assert max(per_fold.values()) - min(per_fold.values()) <= 1, (ds, lab)
        for it in rows:
            assert it.split == f"fold{it.fold}"
    emo = by["mini_emotion"]
    assert {it.extra["language"] for it in emo} == {"en", "de", "fr", "es"}
    assert all(it.text and it.speaker for it in emo)
    for it in by["mini_instrument"]:
        lo, hi = mini.plan._PITCH_RANGE
        assert isinstance(it.extra["pitch"], int) and lo <= it.extra["pitch"] <= hi
    for it in by["mini_chord"]:
        assert it.extra["root"] in mini.plan._CHORD_ROOTS
    for it in by["mini_mix"]:
        n_talkers = 2 if it.label == "two_talkers_noise" else 1
        assert len(it.extra["speakers"]) == len(it.extra["texts"]) == n_talkers
        if it.label == "speech_music":
            assert it.text == it.extra["texts"][0] and it.speaker == it.extra["speakers"][0]


def test_files_readable_with_recorded_rate_and_duration(corpus):
    root, out, items = corpus
    assert read_manifest(out) == items
    for it in items:
        path = resolve_path(it, out.parent)
        assert path.parent.is_relative_to(root) and not Path(it.path).is_absolute()
        wav, sr = sf.read(str(path), dtype="float64")
        assert sr == it.sample_rate == mini.SAMPLE_RATES[path.relative_to(root).parts[0]]
        assert wav.ndim == 1 and it.channels == 1
        assert it.duration == pytest.approx(len(wav) / sr, abs=1e-6)
        assert np.all(np.isfinite(wav))
        peak = np.max(np.abs(wav))
        assert 10 ** (-18 / 20) < peak < 1.0, it.id  # peak-normalized below 0 dBFS, never silent
        assert np.sqrt(np.mean(wav**2)) > 1e-3, it.id


def _mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular filters equally spaced on the HTK mel scale, shape (n_mels, n_fft // 2 + 1)."""
    mel = np.linspace(0.0, 2595.0 * np.log10(1.0 + sr / 2 / 700.0), n_mels + 2)
    hz = 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    return np.maximum(0.0, np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)))


def test_classes_separable_by_log_mel_statistics(corpus):
    """Leave-one-fold-out nearest centroid on mean log-mel: well above chance."""
    from codecbench_utils.audio import load_audio

    _, out, items = corpus
    by = _by_dataset(items)
    fbank = _mel_filterbank(16000, 512, 40)
    for ds, min_acc in (("mini_sound", 0.9), ("mini_instrument", 0.7), ("mini_emotion", 0.7)):
        feats, labels, folds = [], [], []
        for it in by[ds]:
            wav, _ = load_audio(resolve_path(it, out.parent), sr=16000)
            frames = np.lib.stride_tricks.sliding_window_view(wav, 512)[::256] * np.hanning(512)
            power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
            mel = np.einsum("mf,tf->mt", fbank, power)  # tiny: BLAS threads would only contend
            logmel = np.log(mel + 1e-6)
            feats.append(np.concatenate([logmel.mean(axis=1), logmel.std(axis=1)]))
            labels.append(it.label)
            folds.append(it.fold)
        x, y, f = np.array(feats), np.array(labels), np.array(folds)
        x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
        correct = 0
        for k in FOLDS:
            classes = sorted(set(y[f != k]))
            cents = np.stack([x[(f != k) & (y == c)].mean(axis=0) for c in classes])
            d = ((x[f == k][:, None, :] - cents[None]) ** 2).sum(axis=-1)
            correct += int((np.array(classes)[d.argmin(axis=1)] == y[f == k]).sum())
        assert correct / len(y) >= min_acc, (ds, correct / len(y))


# ---------------------------------------------------------------- determinism and reuse
def test_deterministic_and_order_independent(corpus, tmp_path):
    """A second generation, part by part in reverse order, gives the same files and manifest bytes."""
    root_a, out_a, _ = corpus
    root_b = tmp_path / "mini_b"
    for part in reversed(mini.SUBSETS):
        mini.prepare_mini(root_b, subset=part, progress=False)
    out_b = root_b / "mini.jsonl"
    mini.prepare_mini(root_b, out=out_b, progress=False)
    assert out_b.read_bytes() == out_a.read_bytes()
    files_a = sorted(p.relative_to(root_a) for p in root_a.rglob("*") if p.is_file() and p != out_a)
    files_b = sorted(p.relative_to(root_b) for p in root_b.rglob("*") if p.is_file() and p != out_b)
    assert files_a == files_b
    _, mismatch, errors = filecmp.cmpfiles(root_a, root_b, [str(p) for p in files_a], shallow=False)
    assert mismatch == [] and errors == []


def test_rerun_reuses_audio_and_rewrites_identical_manifest(corpus, tmp_path):
    root, out, items = corpus
    before = out.read_bytes()
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*.*") if p != out}
    again = prepare_dataset("mini", root, out=out, progress=False)
    assert again == items and out.read_bytes() == before
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_manifest_elsewhere_gets_absolute_paths(corpus, tmp_path):
    root, out, items = corpus
    other = tmp_path / "elsewhere" / "chord.jsonl"
    chord = mini.prepare_mini(root, subset="chord", out=other, progress=False)
    assert all(Path(it.path).is_absolute() for it in chord)
    expected = [replace(it, path=str(root / it.path)) for it in items if it.dataset == "mini_chord"]
    assert chord == expected
    rows = [json.loads(ln) for ln in other.read_text().splitlines()]
    assert [r["id"] for r in rows] == [it.id for it in expected]


# ---------------------------------------------------------------- subsets and sizes
def test_subset_selection(corpus):
    root, _, items = corpus
    got = mini.prepare_mini(root, subset="instrument,sound", progress=False)
    assert {it.dataset for it in got} == {"mini_instrument", "mini_sound"}
    want = [it for it in items if it.dataset in {"mini_instrument", "mini_sound"}]
    assert [replace(it, path=str(root / it.path)) for it in want] == got
    assert mini.prepare_mini(root, subset=["chord"], progress=False) == mini.prepare_mini(
        root, subset="chord", progress=False
    )
    with pytest.raises(UnknownNameError, match="unknown subset"):
        mini.prepare_mini(root, subset="nsynth", progress=False)
    with pytest.raises(UnknownNameError, match="unknown size"):
        mini.prepare_mini(root, subset="chord", size="huge", progress=False)
    with pytest.raises(ValueError, match="positive integer"):
        mini.prepare_mini(root, subset="chord", size=0, progress=False)


def test_larger_size_is_a_superset(corpus, tmp_path):
    root, _, items = corpus
    small = [replace(it, path=str(root / it.path)) for it in items if it.dataset == "mini_sound"]
    root2 = tmp_path / "mini_2"
    bigger = mini.prepare_mini(root2, subset="sound", size=2, progress=False)
    assert len(bigger) == 2 * len(small)
    shared = {it.id: replace(it, path=str(root / Path(it.path).relative_to(root2))) for it in bigger}
    assert all(shared[it.id] == it for it in small)
    assert mini.plan._scale("medium") == 5 and mini.plan._scale("large") == 20 and mini.plan._scale("3") == 3


def test_missing_espeak_raises_only_for_speech(monkeypatch, tmp_path):
    def absent():
        raise MissingDependencyError(f"no espeak here; {tts.INSTALL_HINT}")

    monkeypatch.setattr(tts, "_ENGINE", None)
    monkeypatch.setattr(tts, "_locate", absent)
    with pytest.raises(MissingDependencyError, match="espeakng-loader"):
        mini.prepare_mini(tmp_path, subset="speech", progress=False)
    assert not list(tmp_path.rglob("*.flac"))
    assert len(mini.prepare_mini(tmp_path, subset="chord", progress=False)) == 24


# ---------------------------------------------------------------- building blocks
def test_espeak_utterance_independent_of_history():
    engine = tts.get_espeak()
    first = engine.synthesize("the old farmer found the kettle", voice="en-us+f3", rate=180)
    engine.synthesize("something else entirely before it", voice="de+m1", pitch=80)
    again = engine.synthesize("the old farmer found the kettle", voice="en-us+f3", rate=180)
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32 and 0.05 < np.max(np.abs(first)) <= 1.0
    assert 1.0 < first.size / engine.sample_rate < 4.0
    with pytest.raises(ValueError, match="no voice 'xx-nowhere'"):
        engine.synthesize("hello", voice="xx-nowhere")


def test_sentence_bank_distinct_and_normalized():
    bank = [mini.sentence(i) for i in range(5000)]
    assert len(set(bank)) == len(bank)
    assert all(s == mini.normalize_text(s) and 5 <= len(s.split()) <= 12 for s in bank)
    assert mini.normalize_text("It's  A Dog, OK?") == "it's a dog ok"
    with pytest.raises(ValueError):
        mini.sentence(-1)


@pytest.mark.parametrize("family", mini.INSTRUMENTS)
def test_note_pitch(family, rng):
    """The strongest spectral peak of a note sits at its fundamental or a harmonic of it."""
    sr, midi = 16000, 60
    x = mini.synth_note(family, midi, 1.0, sr, rng)
    assert x.shape == (sr,) and np.all(np.isfinite(x)) and np.max(np.abs(x)) > 0
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    peak_hz = np.argmax(spec) * sr / x.size
    f0 = 440 * 2 ** ((midi - 69) / 12)
    ratio = peak_hz / f0
    if family == "mallet":  # inharmonic partials 1, 3.93, 9.2
        assert min(abs(ratio - r) for r in (1.0, 3.93, 9.2)) < 0.05
    else:
        assert abs(ratio - round(ratio)) < 0.05 and round(ratio) >= 1
