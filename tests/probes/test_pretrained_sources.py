"""whisper: and ssl: feature sources on tiny random models saved as local checkpoints (no download)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import ConfigError, MissingWeightsError, UnknownNameError
from codecbench_utils.probes.features import make_extractor, parse_feature_source

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whisper")
    cfg = transformers.WhisperConfig(d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                                     decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                                     num_mel_bins=80, vocab_size=64, max_target_positions=32, pad_token_id=0,
                                     bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
    torch.manual_seed(0)
    transformers.WhisperModel(cfg).save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_hubert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hubert")
    cfg = transformers.HubertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8,
                                    conv_dim=[4, 4, 4], conv_stride=[5, 8, 8], conv_kernel=[10, 8, 8],
                                    num_conv_pos_embeddings=4, num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    transformers.HubertModel(cfg).save_pretrained(folder)
    return folder


def _items(tmp_path, rng, seconds=(1.0, 2.3)):
    items = []
    for i, s in enumerate(seconds):
        sf.write(tmp_path / f"a{i}.wav", (0.1 * rng.standard_normal(int(s * 22050))).astype(np.float32), 22050)
        items.append(ManifestItem(f"a{i}", "d", "speech", f"a{i}.wav", s, 22050))
    write_manifest(items, tmp_path / "m.jsonl")
    return items


def test_names_parse_and_label():
    s = parse_feature_source("ssl:wavlm-base-plus@6")
    assert (s.kind, s.model, s.layer, s.label, s.name) == ("ssl", "wavlm-base-plus", 6, "ssl_wavlm_base_plus_l6",
                                                           "ssl:wavlm-base-plus@6")
    w = parse_feature_source("whisper:small")
    assert (w.kind, w.label, w.name) == ("whisper", "whisper_small", "whisper:small")
    for bad in ("ssl:hubert-base", "ssl:hubert-base@x", "whisper:"):
        with pytest.raises(UnknownNameError):
            parse_feature_source(bad)


def test_whisper_encoder_features_cover_the_item_at_50_hz(tiny_whisper, tmp_path, rng):
    items = _items(tmp_path, rng, seconds=(1.0, 31.5))  # the second crosses Whisper's 30-s window
    ex = make_extractor(f"whisper:{tiny_whisper}", manifest_dir=tmp_path)
    assert ex.frame_rate == 50.0 and ex.dim == 16
    for it in items:
        f = ex(it)
        assert f.shape == (int(np.ceil(it.duration * 16000 / 320)), 16) and f.dtype == np.float32
    # the features are the encoder's own output for the window
    x = np.asarray(sf.read(tmp_path / "a0.wav")[0], dtype=np.float32)
    from codecbench_utils.audio import resample

    x16 = resample(x, 22050, 16000)
    model = transformers.WhisperModel.from_pretrained(tiny_whisper).get_encoder().eval()
    fe = transformers.WhisperFeatureExtractor.from_pretrained(tiny_whisper)
    with torch.inference_mode():
        ref = model(fe(x16, sampling_rate=16000, return_tensors="pt").input_features).last_hidden_state[0].numpy()
    np.testing.assert_allclose(ex(items[0]), ref[:50], atol=1e-5)


def test_ssl_layer_features_are_that_layer(tiny_hubert, tmp_path, rng):
    items = _items(tmp_path, rng)
    model = transformers.HubertModel.from_pretrained(tiny_hubert).eval()
    for layer in (0, 2):
        ex = make_extractor(f"ssl:{tiny_hubert}@{layer}", manifest_dir=tmp_path)
        f = ex(items[1])
        from codecbench_utils.audio import load_audio

        x, _ = load_audio(tmp_path / "a1.wav", sr=16000)
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)[None], output_hidden_states=True).hidden_states[layer][0].numpy()
        np.testing.assert_allclose(f, ref, atol=1e-5)
        assert f.shape[1] == 8 and abs(f.shape[0] - 2.3 * 50) <= 2
    a, b = (make_extractor(f"ssl:{tiny_hubert}@{k}", manifest_dir=tmp_path).fingerprint for k in (0, 1))
    assert a != b  # each layer has its own cache namespace
    with pytest.raises(ConfigError, match="out of range"):
        make_extractor(f"ssl:{tiny_hubert}@9")


def test_missing_pretrained_models_name_the_download(tmp_path):
    with pytest.raises(MissingWeightsError, match="hf download"):
        make_extractor(f"whisper:{tmp_path / 'none'}")
    with pytest.raises(MissingWeightsError, match="hf download"):
        make_extractor(f"ssl:{tmp_path / 'none'}@3")


def test_probe_manifest_runs_on_an_ssl_source(tiny_hubert, tmp_path, rng):
    from codecbench_utils.probes.standalone import probe_manifest

    items = []
    for i in range(20):
        f0 = 200 if i % 2 else 600
        t = np.arange(16000) / 16000
        sf.write(tmp_path / f"t{i}.wav", (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), 16000)
        items.append(ManifestItem(f"t{i}", "tones", "sound", f"t{i}.wav", 1.0, 16000, label=f"f{f0}",
                                  extra={"fold": i % 5 + 1}))
    manifest = write_manifest(items, tmp_path / "m.jsonl")
    run = probe_manifest("classify", manifest, f"ssl:{tiny_hubert}@2", tmp_path / "out", preset="small",
                         overrides={"epochs": 3}, seeds=[0], device="cpu", progress=False)
    assert len(run.summary) == 1 and run.summary["feature"].iloc[0] == f"ssl_{tiny_hubert.name}_l2"
    assert run.summary["codec"].iloc[0] == "original"


def test_optional_baselines_are_used_when_on_disk_and_left_out_with_the_reason_when_not(tiny_hubert, tmp_path, rng,
                                                                                       monkeypatch, caplog):
    import logging

    from codecbench_utils.stages._probe import probe_stage_config, resolve_features

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_hub"))
    items = _items(tmp_path, rng)
    # an encode-only tokenizer: its embeddings and tokens are probed, its (absent) resynthesis is not
    cfg = probe_stage_config("classification", codec="hubert_base_l6_km500", manifest=tmp_path / "m.jsonl",
                             runs=tmp_path / "runs",
                             features=f"codec,tokens,logmel:resynth,whisper:small?,ssl:{tiny_hubert}@1?")
    with caplog.at_level(logging.INFO):
        got = resolve_features(cfg, items, tmp_path)
    assert got == ["codec:hubert_base_l6_km500", "tokens:hubert_base_l6_km500", f"ssl:{tiny_hubert}@1"]
    assert "whisper:small' left out: no local copy of 'openai/whisper-small'" in caplog.text
    assert "encode-only" in caplog.text
    with pytest.raises(ConfigError, match="only whisper:/ssl: sources can be optional"):
        probe_stage_config("classification", codec="identity", features="logmel:original?")


def test_the_token_probe_reads_codebooks_of_unequal_size():
    from codecbench_utils.probes.tokens import token_vocab

    assert token_vocab("tokens:baichuan_nq8") == [8192, 4096, 2048, 1024, 1024, 1024, 1024, 1024]
