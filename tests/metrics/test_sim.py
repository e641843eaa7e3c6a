"""Speaker similarity: resemblyzer runs offline; the WavLM+ECAPA loader is strict."""

from __future__ import annotations

import re

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError, MissingWeightsError
from codecbench_utils.metrics import sim as sim_mod

torch = pytest.importorskip("torch")


def _tiny_config():
    return sim_mod.wavlm_large_config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16),
        conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        num_buckets=16, max_bucket_distance=32)


TINY_HEAD = dict(channels=16, emb_dim=8, bottleneck=8, attention_channels=8, out_channels=24)


def _to_unispeech(key: str) -> str:
    """Independent inverse of the key mapping: our names -> UniSpeech/s3prl checkpoint names."""
    if not key.startswith("trunk."):
        return key
    k = key[len("trunk."):]
    rules = [
        (r"masked_spec_embed", "mask_emb"),
        (r"feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
        (r"feature_extractor\.conv_layers\.(\d+)\.layer_norm\.", r"feature_extractor.conv_layers.\1.2.1."),
        (r"feature_projection\.projection\.", "post_extract_proj."),
        (r"feature_projection\.layer_norm\.", "layer_norm."),
        (r"encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original0", "encoder.pos_conv.0.weight_g"),
        (r"encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original1", "encoder.pos_conv.0.weight_v"),
        (r"encoder\.pos_conv_embed\.conv\.", "encoder.pos_conv.0."),
        (r"\.attention\.gru_rel_pos_const", ".self_attn.grep_a"),
        (r"\.attention\.gru_rel_pos_linear\.", ".self_attn.grep_linear."),
        (r"\.attention\.rel_attn_embed\.", ".self_attn.relative_attention_bias."),
        (r"\.attention\.", ".self_attn."),
        (r"(layers\.\d+)\.layer_norm\.", r"\1.self_attn_layer_norm."),
        (r"\.feed_forward\.intermediate_dense\.", ".fc1."),
        (r"\.feed_forward\.output_dense\.", ".fc2."),
    ]
    for pat, rep in rules:
        k = re.sub(pat, rep, k)
    return "feature_extract.model." + k


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = sim_mod.build_wavlm_ecapa(_tiny_config(), **TINY_HEAD)
    state = {_to_unispeech(k): v.clone() for k, v in model.state_dict().items()}
    path = tmp_path_factory.mktemp("sim") / "wavlm_large_finetune.pth"
    torch.save({"model": state}, path)
    return model, state, path


def test_strict_loader_round_trip(tiny_ckpt, rng):
    model, _, path = tiny_ckpt
    enc = sim_mod.WavLMEcapaEncoder(path, config=_tiny_config(), **TINY_HEAD)
    assert enc.name.startswith("wavlm_ecapa-")
    x = (0.1 * rng.standard_normal((1, 8000))).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(x))[0].double().numpy()
    np.testing.assert_allclose(enc.embed([x[0]], 16000)[0], expected, rtol=1e-6, atol=1e-6)


def test_strict_loader_reports_missing_and_unexpected(tiny_ckpt, tmp_path):
    _, state, _ = tiny_ckpt
    broken = dict(state)
    broken.pop("layer2.SE_Connect.linear1.weight")
    broken["feature_extract.model.encoder.layers.0.self_attn.bogus"] = torch.zeros(1)
    bad = tmp_path / "broken.pth"
    torch.save({"model": broken}, bad)
    with pytest.raises(sim_mod.CheckpointKeyError, match=r"1 missing: layer2\.SE_Connect\.linear1\.weight") as ei:
        sim_mod.WavLMEcapaEncoder(bad, config=_tiny_config(), **TINY_HEAD)
    assert "unexpected: trunk.encoder.layers.0.attention.bogus" in str(ei.value)
    shape = dict(state)
    shape["linear.weight"] = torch.zeros(3, 3)
    torch.save({"model": shape}, bad)
    with pytest.raises(sim_mod.CheckpointKeyError, match="another shape: linear.weight"):
        sim_mod.WavLMEcapaEncoder(bad, config=_tiny_config(), **TINY_HEAD)


def test_missing_checkpoint_raises(tmp_path):
    with pytest.raises(MissingWeightsError, match="wavlm_large_finetune.pth"):
        sim_mod.load_sim_model(f"wavlm_ecapa:{tmp_path / 'nope.pth'}")


def test_key_mapping_examples():
    f = sim_mod.unispeech_to_hf_key
    assert f("feature_extract.model.encoder.layers.5.self_attn.grep_a") == \
        "trunk.encoder.layers.5.attention.gru_rel_pos_const"
    assert f("feature_extract.model.encoder.layers.5.fc2.bias") == "trunk.encoder.layers.5.feed_forward.output_dense.bias"
    assert f("feature_extract.model.feature_extractor.conv_layers.3.2.1.bias") == \
        "trunk.feature_extractor.conv_layers.3.layer_norm.bias"
    assert f("layer4.Res2Conv1dReluBn.convs.0.weight") == "layer4.Res2Conv1dReluBn.convs.0.weight"


@pytest.fixture(scope="module")
def resemblyzer_model():
    return sim_mod.load_sim_model("resemblyzer")


def test_resemblyzer_sim(resemblyzer_model, signal, rng):
    ref = signal(rng, 16000, 2.0)
    est = ref + 0.01 * rng.standard_normal(ref.size).astype(np.float32)
    assert resemblyzer_model.name.startswith("resemblyzer-")
    value = sim_mod.sim(ref, est, 16000, model=resemblyzer_model)
    emb = resemblyzer_model.embed([ref, est], 16000)
    np.testing.assert_allclose(value, emb[0] @ emb[1] / np.linalg.norm(emb[0]) / np.linalg.norm(emb[1]),
                               rtol=1e-12)
    assert 0.5 < float(value) <= 1.0 + 1e-9
    with pytest.raises(InvalidAudioError, match="silent"):
        sim_mod.sim(ref, np.zeros_like(ref), 16000, model=resemblyzer_model)
