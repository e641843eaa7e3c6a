"""The 2026 adapters on tiny random configurations: NeuCodec (16 kHz in, 24 kHz out), the continuous-latent
tokenizers (VibeVoice, Pocket TTS), SNAC (multi-rate codebooks) and the encode-only SSL k-means tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.conformance import check_codec
from codecbench_utils.codecs.fingerprint import fingerprint_payload
from codecbench_utils.codecs.registry import codec_class, get_spec
from codecbench_utils.codecs.resynth import read_index, resynthesize
from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import ConfigError, InvalidAudioError, MissingDependencyError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def _speech(rng, n, sr):
    t = np.arange(n) / sr
    return (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
            + 0.01 * rng.standard_normal(n)).astype(np.float32)


# ------------------------------------------------------------------------------------------------ NeuCodec
@pytest.fixture(scope="module")
def neucodec(tiny_builders):
    torch.manual_seed(0)
    cls, spec, model, _ = tiny_builders["neucodec"]()
    return cls.from_model(spec, model), model


def test_neucodec_frames_and_its_24k_decoder(neucodec, rng):
    codec, model = neucodec
    assert (codec.sample_rate, codec.output_sample_rate, codec.hop_length, codec.output_hop) == (16000, 24000, 320, 480)
    for n in (640, 959, 16000, 16123):  # one sample, then up to a frame of padding: n // 320 frames, as upstream
        assert codec.encode(_speech(rng, n, 16000)).codes.shape == (1, n // 320)
    wav = _speech(rng, 16123, 16000)
    enc = codec.encode(wav)
    with torch.inference_mode():  # the decoder's own output, at 24 kHz, is what comes back (trimmed, padded)
        ref = model.decode(audio_codes=torch.from_numpy(enc.codes)[None]).audio_values.reshape(-1).numpy()
    out = codec.decode(enc)
    assert out.shape == (round(16123 * 1.5),) and ref.size == 50 * 480
    np.testing.assert_allclose(out[: ref.size], ref, atol=1e-6)
    assert np.all(out[ref.size:] == 0)  # the partial last frame (under 20 ms) is not decoded upstream either
    with pytest.raises(InvalidAudioError, match="at least 2 .*40 ms"):
        codec.encode(_speech(rng, 500, 16000))


def test_neucodec_resynthesis_is_written_at_24k_and_scored_against_16k_references(neucodec, tmp_path, rng):
    from codecbench_utils.metrics.compute import compute_metrics

    codec, _ = neucodec
    items = []
    for i, sec in enumerate((0.9, 1.3)):
        sf.write(tmp_path / f"u{i}.wav", _speech(rng, int(16000 * sec), 16000), 16000)
        items.append(ManifestItem(id=f"u{i}", dataset="t", category="speech", path=f"u{i}.wav", duration=sec,
                                  sample_rate=16000))
    write_manifest(items, tmp_path / "m.jsonl")
    summary = resynthesize(codec, tmp_path / "m.jsonl", tmp_path / "out", progress=False)
    assert summary.n_done == 2, summary.describe()
    index = read_index(tmp_path / "out")
    info = sf.info(tmp_path / "out" / "u1.flac")
    assert index["u1"].sample_rate == info.samplerate == 24000 and info.frames == round(16000 * 1.3 * 1.5)
    assert index["u1"].duration == pytest.approx(1.3)
    rows = compute_metrics(None, tmp_path / "out", profile="paper", metrics="mel_loss,mse", manifest=tmp_path / "m.jsonl",
                           workers=0, progress=False)
    assert (rows["status"] == "ok").all() and rows["mel_loss"].notna().all(), rows


# ------------------------------------------------------------------------------------- continuous latents
def test_vibevoice_scales_like_its_feature_extractor_and_divides_the_gain_out(tiny_builders, rng):
    torch.manual_seed(0)
    cls, spec, model, _ = tiny_builders["vibevoice"]()
    codec = cls.from_model(spec, model)
    x = _speech(rng, 811, 800)
    fe = transformers.VibeVoiceAcousticTokenizerFeatureExtractor(sampling_rate=800)
    expected = fe(x, sampling_rate=800, padding=False)["input_values"][0, 0].numpy()
    np.testing.assert_allclose(x * codec._input_gain(x), expected, rtol=1e-5)
    loud = 3.0 * x  # a louder copy is normalised to the same level: the same latents, 3x the output
    assert codec.encode(loud).gain == pytest.approx(codec.encode(x).gain / 3, rel=1e-5)
    np.testing.assert_allclose(codec.encode(loud).codes, codec.encode(x).codes, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(codec.resynthesize(loud).wav, 3.0 * codec.resynthesize(x).wav, rtol=1e-3, atol=1e-7)
    with torch.inference_mode():  # the latents are the encoder's mean, no VAE noise (causal: padding only adds frames)
        ref = model.encode(torch.from_numpy(expected)[None, None], sample=False).latents[0].T.numpy()
    assert ref.shape[1] == codec.frames_for(x.size) - 1
    np.testing.assert_allclose(codec.encode(x).codes[:, : ref.shape[1]], ref, rtol=1e-4, atol=1e-9)


def test_pockettts_latents_are_the_models_own(tiny_builders, rng):
    torch.manual_seed(0)
    cls, spec, model, dim = tiny_builders["pockettts"]()
    codec = cls.from_model(spec, model)
    x = _speech(rng, 811, 800)
    padded = np.pad(x, (0, -x.size % codec.hop_length))  # what EncodecFeatureExtractor feeds it
    with torch.inference_mode():
        ref = model.encode(torch.from_numpy(padded)[None, None]).latents[0].T.numpy()
    enc = codec.encode(x)
    assert enc.codes.shape == (dim, codec.frames_for(x.size)) and enc.n_bits is None and enc.bitrate_kbps is None
    np.testing.assert_allclose(enc.codes, ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(codec.embed(x), ref.T, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("codec_id", ["vibevoice_acoustic", "pockettts"])
def test_continuous_specs_have_no_bitrate_and_no_tokens(codec_id):
    from codecbench_utils.probes.tokens import token_vocab

    spec = get_spec(codec_id)
    assert codec_class(spec).CONTINUOUS and spec.kbps is None and spec.n_q is None
    with pytest.raises(ConfigError, match=f"no discrete codes.*codec:{codec_id}"):
        token_vocab(f"tokens:{codec_id}")


def test_the_bubble_figure_draws_codecs_without_a_bitrate():
    import pandas as pd

    from codecbench_utils.plots import bubble_wer_sim, format_kbps

    df = pd.DataFrame({"codec": ["a", "vibevoice_acoustic"], "wer": [0.3, 0.4], "sim": [0.8, 0.7],
                       "kbps": [6.0, np.nan]})
    fig = bubble_wer_sim(df)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "vibevoice_acoustic\nno bitrate" in texts and "a\n6 kbps" in texts and format_kbps(np.nan) == "no bitrate"
    assert "no WER or SIM" not in fig.axes[0].get_title()


# --------------------------------------------------------------------------------------------------- SNAC
snac = pytest.importorskip("snac", reason="the optional extra codecbench[snac] is not installed")


def _tiny_snac():
    from codecbench_utils.codecs.snac import SnacCodec

    torch.manual_seed(0)
    cfg = dict(sampling_rate=800, encoder_dim=4, encoder_rates=[2, 4], decoder_dim=16, decoder_rates=[4, 2],
               attn_window_size=None, codebook_size=16, codebook_dim=4, vq_strides=[4, 2, 1])
    model = snac.SNAC(**cfg)
    spec = CodecSpec(id="tiny_snac", family="snac", backend="snac", sample_rate=800, n_q=3, codebook_size=16,
                     frame_rate=100.0, embedding_dim=16, options={"vq_strides": [4, 2, 1]})
    return SnacCodec, spec, model, cfg


def test_snac_codes_at_three_rates_and_the_token_matrix(rng):
    cls, spec, model, _ = _tiny_snac()
    codec = cls.from_model(spec, model)
    x = _speech(rng, 811, 800)
    enc = codec.encode(x)
    with torch.inference_mode():
        ref = model.encode(torch.from_numpy(x)[None, None])
    assert [c.size for c in enc.codes] == [r.shape[-1] for r in ref] == [26, 52, 104]
    for c, r in zip(enc.codes, ref, strict=True):
        np.testing.assert_array_equal(c, r[0].numpy())
    assert enc.n_bits == (26 + 52 + 104) * 4
    mat = codec.codes_matrix(enc)
    frames = -(-811 // 8)
    assert mat.shape == (3, frames) and codec.embed(x).shape == (frames, 16)
    np.testing.assert_array_equal(mat[0, :8], np.repeat(enc.codes[0][:2], 4))  # coarse codes held over 4 frames
    np.testing.assert_array_equal(mat[2], enc.codes[2][:frames])


def test_snac_decoder_noise_is_seeded_and_leaves_the_callers_rng_alone(rng):
    cls, spec, model, _ = _tiny_snac()
    codec = cls.from_model(spec, model)
    x = _speech(rng, 811, 800)
    enc = codec.encode(x)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, b = codec.decode(enc), codec.decode(enc)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(a, b)
    with torch.inference_mode():  # the package's decoder under the same seed
        torch.manual_seed(0)
        ref = model.decode([torch.from_numpy(c)[None] for c in enc.codes])[0, 0].numpy()[: x.size]
    np.testing.assert_allclose(a, ref, atol=1e-6)
    other = cls.from_model(CodecSpec(**{**spec.to_dict(), "options": {"vq_strides": [4, 2, 1], "seed": 1}}), model)
    assert not np.array_equal(other.decode(enc), a)  # the noise is real: another seed, another output


def test_snac_conforms_and_loads_a_checkpoint_folder(tmp_path, rng, conforms):
    cls, spec, model, cfg = _tiny_snac()
    conforms(cls.from_model(spec, model))
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    loaded = cls(spec, weights=tmp_path)
    x = _speech(rng, 811, 800)
    np.testing.assert_array_equal(loaded.resynthesize(x).wav, cls.from_model(spec, model).resynthesize(x).wav)
    wrong = CodecSpec(**{**spec.to_dict(), "n_q": 4})
    with pytest.raises(Exception, match="n_q 4 but the checkpoint has 3"):
        cls(wrong, weights=tmp_path)


def test_snac_without_its_package_says_how_to_install(monkeypatch):
    import importlib.util

    from codecbench_utils.codecs.snac import SnacCodec

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "snac" else real(name, *a))
    spec = get_spec("snac_24khz")
    assert "pip install 'codecbench[snac]'" in SnacCodec.available(spec)
    with pytest.raises(MissingDependencyError, match="snac==1.2.1"):
        SnacCodec(spec)


@pytest.mark.parametrize("codec_id", ["snac_24khz", "snac_32khz", "snac_44khz"])
def test_snac_bitrates_follow_from_the_strides(codec_id):
    spec = get_spec(codec_id)
    bits = sum(np.log2(spec.codebook_size) / s for s in spec.options["vq_strides"])
    assert spec.kbps == pytest.approx(spec.frame_rate * bits / 1000, rel=1e-12)
    assert len(spec.options["vq_strides"]) == spec.n_q
    assert {"snac_24khz": 0.98, "snac_32khz": 1.9, "snac_44khz": 2.6}[codec_id] == pytest.approx(spec.kbps, abs=0.03)


# ----------------------------------------------------------------------------------- encode-only tokenizer
@pytest.fixture(scope="module")
def hubert_km(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hubert_km")
    cfg = transformers.HubertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=8,
                                    conv_dim=(4, 4), conv_stride=(5, 64), conv_kernel=(10, 64),
                                    num_conv_pos_embeddings=4, num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    transformers.HubertModel(cfg).save_pretrained(folder / "model")
    centroids = np.random.default_rng(0).standard_normal((12, 8)).astype(np.float32)
    np.save(folder / "km.npy", centroids)
    spec = CodecSpec(id="tiny_km", family="ssl_kmeans", backend="ssl_kmeans", sample_rate=16000, n_q=1,
                     codebook_size=12, frame_rate=50.0, embedding_dim=8, round_trip=False,
                     options={"model": str(folder / "model"), "layer": 1, "centroids": str(folder / "km.npy")})
    return spec, centroids, folder


def test_ssl_kmeans_units_are_the_nearest_centroids_of_that_layer(hubert_km, rng):
    from codecbench_utils.codecs.ssl_kmeans import SSLKMeansCodec
    from codecbench_utils.probes.pretrained import SSLFeatures

    spec, centroids, _ = hubert_km
    codec = SSLKMeansCodec(spec)
    x = _speech(rng, 16000, 16000)
    feats = SSLFeatures(spec.options["model"], 1)(x, 16000)
    want = np.argmin(((feats[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)  # plain NumPy distances
    enc = codec.encode(x)
    assert enc.codes.shape == (1, feats.shape[0]) and feats.shape[0] == 49
    np.testing.assert_array_equal(enc.codes[0], want)
    assert enc.n_bits == round(49 * np.log2(12))
    np.testing.assert_array_equal(codec.embed(x), centroids[want])
    report = check_codec(codec)
    assert report.ok and report.status()["deterministic"] == report.status()["embeddings"] == "pass", report.describe()
    assert report.status()["length"] == "n/a" and "encode-only" in report.results[0].detail
    with pytest.raises(Exception, match="encode-only"):
        codec.decode(enc)


def test_ssl_kmeans_refuses_centroids_that_do_not_fit(hubert_km, tmp_path):
    from codecbench_utils.codecs.ssl_kmeans import SSLKMeansCodec, load_centroids

    spec, _, folder = hubert_km
    np.save(tmp_path / "wide.npy", np.zeros((12, 5), np.float32))
    with pytest.raises(Exception, match="12 x 5"):
        SSLKMeansCodec(CodecSpec(**{**spec.to_dict(), "options": {**spec.options, "centroids": str(tmp_path / "wide.npy")}}))
    import joblib
    from sklearn.cluster import KMeans  # a joblib-saved k-means (textless-lib's km.bin) is read too

    km = KMeans(n_clusters=3, n_init=1, random_state=0).fit(np.random.default_rng(0).standard_normal((30, 8)))
    joblib.dump(km, tmp_path / "km.bin")
    np.testing.assert_allclose(load_centroids(tmp_path / "km.bin"), km.cluster_centers_, rtol=1e-6)
    reason = codec_class(get_spec("hubert_base_l6_km500")).available(get_spec("hubert_base_l6_km500"))
    assert reason and "centroids not found" in reason and "km.bin" in reason


def test_encode_only_tokenizers_skip_resynthesis_and_acoustic_stages(tmp_path, monkeypatch):
    from codecbench_utils.runner import run_codec
    from codecbench_utils.sweep import plan_sweep

    write_manifest([ManifestItem(id="u", dataset="t", category="speech", path="u.wav", duration=1.0,
                                 sample_rate=16000)], tmp_path / "m.jsonl")
    summary = resynthesize("hubert_base_l6_km500", tmp_path / "m.jsonl", tmp_path / "out", progress=False)
    assert "encode-only" in summary.skipped_reason and "skipped" in summary.describe()
    assert not (tmp_path / "out").exists()  # nothing written, nothing loaded
    runs = run_codec("hubert_base_l6_km500", stages=["resynthesis", "acoustic"], runs=tmp_path / "runs")
    assert [r.stage for r in runs] == ["resynthesis", "acoustic"] and all(r.ok and r.skipped for r in runs)
    assert runs[0].state.startswith("skipped: 'hubert_base_l6_km500' is an encode-only tokenizer")
    tasks = plan_sweep(["hubert_base_l6_km500", "identity"], ["mini"], stages=["resynthesis", "acoustic", "asr"])
    assert {(t.codec, t.stage) for t in tasks} == {("identity", "resynthesis"), ("identity", "acoustic"),
                                                   ("identity", "asr"), ("hubert_base_l6_km500", "asr")}


def test_new_spec_fields_leave_earlier_fingerprints_alone():
    identity = fingerprint_payload(get_spec("identity"))["spec"]
    assert "round_trip" not in identity and "output_sample_rate" not in identity  # earlier results keep their keys
    assert fingerprint_payload(get_spec("neucodec"))["spec"]["output_sample_rate"] == 24000
    assert fingerprint_payload(get_spec("hubert_base_l6_km500"))["spec"]["round_trip"] is False


# -------------------------------------------------------------------------------------------- SpeechTokenizer
ST_CONFIG = dict(n_filters=4, dimension=16, semantic_dimension=8, strides=[8, 5, 4, 2], lstm_layers=1,
                 bidirectional=True, dilation_base=2, residual_kernel_size=3, n_residual_layers=1, activation="ELU",
                 sample_rate=16000, n_q=3, codebook_size=32)


@pytest.fixture(scope="module")
def speechtokenizer_model():
    import importlib.util

    if importlib.util.find_spec("speechtokenizer") is None:  # not importorskip: its full import needs torchaudio
        pytest.skip("install it with: pip install --no-deps speechtokenizer==1.0.1 einops")
    from codecbench_utils.codecs.speechtokenizer import speechtokenizer_class

    torch.manual_seed(0)
    return speechtokenizer_class()(ST_CONFIG).eval()


def _st_spec(n_q, **options):
    return CodecSpec(id=f"tiny_st{n_q}", family="speechtokenizer", backend="speechtokenizer", sample_rate=16000,
                     n_q=n_q, codebook_size=32, frame_rate=50.0, embedding_dim=16, options=options)


def test_speechtokenizer_is_the_packages_model_and_needs_no_torchaudio(speechtokenizer_model, rng):
    from codecbench_utils.codecs.speechtokenizer import SpeechTokenizerCodec

    model = speechtokenizer_model  # built by the package's own class, imported without its torchaudio-bound trainer
    codec = SpeechTokenizerCodec.from_model(_st_spec(2), model)
    x = _speech(rng, 16123, 16000)
    xt = torch.from_numpy(x)[None, None]
    enc = codec.encode(x)
    with torch.inference_mode():
        ref_codes = model.encode(xt, n_q=2)[:, 0].numpy()
        ref_audio = model.decode(model.encode(xt, n_q=2))[0, 0].numpy()
        ref_latent = model.quantizer.decode(model.encode(xt, n_q=2))[0].T.numpy()
    np.testing.assert_array_equal(enc.codes, ref_codes)
    assert enc.codes.shape == (2, 51) and enc.n_bits == 2 * 51 * 5
    out = codec.decode(enc)
    assert out.shape == x.shape
    np.testing.assert_allclose(out[: min(out.size, ref_audio.size)], ref_audio[: out.size], atol=1e-6)
    np.testing.assert_allclose(codec.embed(x), ref_latent, atol=1e-6)
    first = SpeechTokenizerCodec.from_model(_st_spec(1), model).encode(x).codes
    np.testing.assert_array_equal(first, enc.codes[:1])  # RVQ-1, the semantic tokens, alone


def test_speechtokenizer_conforms_and_loads_a_checkpoint_folder(speechtokenizer_model, tmp_path, rng, conforms):
    from codecbench_utils.codecs.speechtokenizer import SpeechTokenizerCodec

    conforms(SpeechTokenizerCodec.from_model(_st_spec(3), speechtokenizer_model))
    (tmp_path / "config.json").write_text(json.dumps(ST_CONFIG))
    torch.save(speechtokenizer_model.state_dict(), tmp_path / "SpeechTokenizer.pt")
    x = _speech(rng, 8000, 16000)
    loaded = SpeechTokenizerCodec(_st_spec(3), weights=tmp_path)
    np.testing.assert_array_equal(loaded.encode(x).codes,
                                  SpeechTokenizerCodec.from_model(_st_spec(3), speechtokenizer_model).encode(x).codes)
    with pytest.raises(Exception, match="n_q 4"):
        SpeechTokenizerCodec(_st_spec(4), weights=tmp_path)


def test_speechtokenizer_fetches_only_its_checkpoint():
    spec = get_spec("speechtokenizer_nq8")
    plan = codec_class(spec).fetch_plan(spec)
    assert plan.hub_repo == "fnlp/SpeechTokenizer"
    assert plan.hub_files == ("speechtokenizer_hubert_avg/config.json", "speechtokenizer_hubert_avg/SpeechTokenizer.pt")
    assert "SpeechTokenizer.pt only" in plan.describe()[0]
