"""ASR error rates of the resynthesis: normaliser, rates against a plain edit distance, real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.errors import MetricError
from codecbench_utils.metrics.asr_error import _rates, asr_error_rates, normalize_text, transcribe

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_audio"


def _edit_distance(a: list, b: list) -> int:
    d = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, d[0] = d.copy(), i
        for j, y in enumerate(b, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (x != y))
    return int(d[-1])


def test_normaliser():
    assert normalize_text("Front-Center, isn't it?  'Yes'") == "front center isn't it yes"
    assert normalize_text("HELLO_world 42!") == "hello world 42"
    assert normalize_text(" ... ") == ""


@pytest.mark.parametrize(("ref", "hyp"), [("the cat sat on the mat", "the cat sat on mat"),
                                          ("front right", "we're right now"), ("a b c", "x y z w"),
                                          ("side left", "side left")])
def test_rates_equal_a_plain_edit_distance(ref, hyp):
    wer, cer = _rates(ref, hyp)
    assert wer == pytest.approx(_edit_distance(ref.split(), hyp.split()) / len(ref.split()))
    assert cer == pytest.approx(_edit_distance(list(ref), list(hyp)) / len(ref))


def test_empty_transcript_is_an_error_and_silence_is_scored(signal, rng):
    x = signal(rng, 16000, 1.0)
    with pytest.raises(MetricError, match="empty"):
        asr_error_rates(x, x, 16000, text=" ?! ")
    out = asr_error_rates(x, np.zeros_like(x), 16000, text="front right")
    assert set(out) == {"asr_wer", "asr_cer", "asr_wer_ref", "asr_cer_ref"}
    assert out["asr_wer"] >= 0.5  # silence is not the transcript


def _labels():
    import pandas as pd

    if not (REAL / "labels.csv").is_file():
        pytest.skip("../shared/real_audio is not present")
    d = pd.read_csv(REAL / "labels.csv")
    return d[d["text"].notna()]


def test_real_speech_is_recognised_and_a_damaged_copy_is_not():
    labels = _labels()
    clean, damaged = [], []
    for row in labels.itertuples():
        x, sr = sf.read(REAL / row.file)
        low = np.repeat(x[::8], 8)[: x.size]  # 2 kHz sample-and-hold: aliased, muffled
        out = asr_error_rates(x, low, sr, text=row.text)
        clean.append(out["asr_wer_ref"])
        damaged.append(out["asr_wer"])
    assert np.mean(clean) <= 0.5  # pocketsphinx gets most of the eight channel names
    assert np.mean(damaged) > np.mean(clean) + 0.2
    x, sr = sf.read(REAL / "speech" / "alsa_front_right.flac")
    assert normalize_text(transcribe(x, sr)) == "front right"


def test_only_the_signals_the_asked_columns_need_are_transcribed(signal, rng, monkeypatch):
    from codecbench_utils.metrics import asr_error

    x = signal(rng, 16000, 1.0)
    heard: list[int] = []
    monkeypatch.setattr(asr_error, "transcribe", lambda audio, sr: heard.append(id(audio)) or "front right")
    out = asr_error_rates(x, x * 0.5, 16000, text="front right", columns=("asr_wer", "asr_cer"))
    assert out == {"asr_wer": 0.0, "asr_cer": 0.0} and len(heard) == 1
    assert set(asr_error_rates(x, x, 16000, text="front right")) == {"asr_wer", "asr_cer", "asr_wer_ref",
                                                                      "asr_cer_ref"}


# ------------------------------------------------------------------ Whisper as the recognizer
@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    """A random 2-layer Whisper with a byte-level tokenizer, saved as a local checkpoint folder."""
    torch = pytest.importorskip("torch")
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    folder = tmp_path_factory.mktemp("whisper")
    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    for s in specials:
        vocab[s] = len(vocab)
    tok = WhisperTokenizer(vocab=vocab, merges=[])
    tok.add_special_tokens({"additional_special_tokens": specials[1:]})
    cfg = WhisperConfig(vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                        num_mel_bins=80, max_source_positions=1500, max_target_positions=64,
                        decoder_start_token_id=vocab["<|startoftranscript|>"], eos_token_id=vocab["<|endoftext|>"],
                        pad_token_id=vocab["<|endoftext|>"], bos_token_id=vocab["<|endoftext|>"])
    torch.manual_seed(0)
    WhisperForConditionalGeneration(cfg).save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tok).save_pretrained(folder)
    return folder


def test_whisper_recognizer_loads_a_local_checkpoint_and_feeds_the_rates(tiny_whisper, signal, rng, monkeypatch):
    from codecbench_utils.metrics import asr_error

    rec = asr_error.load_recognizer(f"whisper:{tiny_whisper}")
    assert rec is asr_error.load_recognizer(f"whisper:{tiny_whisper}")  # once per process
    assert rec.name.startswith(f"whisper:{tiny_whisper}@")
    x = signal(rng, 16000, 1.0)
    text = rec.transcribe(x, 16000)
    assert isinstance(text, str) and text == rec.transcribe(x, 16000)  # greedy: deterministic
    monkeypatch.setattr(rec, "transcribe", lambda audio, sr: "front right")
    out = asr_error_rates(x, x, 16000, text="Front right!", recognizer=f"whisper:{tiny_whisper}")
    assert out == {"asr_wer": 0.0, "asr_cer": 0.0, "asr_wer_ref": 0.0, "asr_cer_ref": 0.0}
    heard = []
    monkeypatch.setattr(asr_error, "transcribe", lambda audio, sr: heard.append(1) or "")
    asr_error_rates(x, x, 16000, text="front right", recognizer=f"whisper:{tiny_whisper}")
    assert heard == []  # pocketsphinx not used when Whisper is asked for


def test_missing_whisper_weights_are_one_clear_line(tmp_path, capsys):
    from codecbench_utils.cli import main
    from codecbench_utils.errors import MissingWeightsError
    from codecbench_utils.metrics.asr_error import load_recognizer

    with pytest.raises(MissingWeightsError, match="hf download"):
        load_recognizer(f"whisper:{tmp_path / 'none'}")
    (tmp_path / "ref").mkdir()
    assert main(["metrics", "--ref", str(tmp_path / "ref"), "--est", str(tmp_path / "ref"), "--metric-profile",
                 "standard", "--metrics", "asr_wer", "--asr-model", f"whisper:{tmp_path / 'none'}",
                 "--out", str(tmp_path / "m.csv")]) == 2
    err = capsys.readouterr().err
    assert "hf download" in err and len(err.strip().splitlines()) == 1


def test_rows_name_their_recognizer_and_another_recognizer_rescores(tiny_whisper, tmp_path, signal, rng):
    import pandas as pd

    from codecbench_utils.data.manifest import ManifestItem, write_manifest
    from codecbench_utils.metrics.compute import compute_metrics

    sf.write(tmp_path / "a.wav", signal(rng, 16000, 1.0), 16000)
    manifest = write_manifest([ManifestItem("a", "d", "speech", "a.wav", 1.0, 16000, text="front right")],
                              tmp_path / "m.jsonl")
    (tmp_path / "est").mkdir()
    sf.write(tmp_path / "est" / "a.flac", signal(rng, 16000, 1.0), 16000)
    kw = dict(profile="standard", metrics="asr_wer,asr_wer_ref", workers=0, progress=False, manifest=manifest,
              out=tmp_path / "r.csv")
    first = compute_metrics(None, tmp_path / "est", **kw)
    assert first.loc[0, "asr_model"] == "pocketsphinx"
    second = compute_metrics(None, tmp_path / "est", asr_model=f"whisper:{tiny_whisper}", **kw)
    assert second.loc[0, "asr_model"].startswith("whisper:") and second.loc[0, "key"] != first.loc[0, "key"]
    assert np.isfinite(second.loc[0, "asr_wer"]) and second.loc[0, "status"] == "ok"
    again = compute_metrics(None, tmp_path / "est", **kw)  # back to the default: rescored, old key again
    assert again.loc[0, "key"] == first.loc[0, "key"]
    assert pd.read_csv(tmp_path / "r.csv").loc[0, "asr_model"] == "pocketsphinx"
