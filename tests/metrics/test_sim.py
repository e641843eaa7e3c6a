"""Speaker similarity: resemblyzer runs offline; the WavLM+ECAPA loader is strict."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError, MissingWeightsError
from codecbench_utils.metrics import sim as sim_mod
from codecbench_utils.metrics import wavlm_ecapa

torch = pytest.importorskip("torch")


def _tiny_config():
    return wavlm_ecapa.wavlm_large_config(
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
    model = wavlm_ecapa.build_wavlm_ecapa(_tiny_config(), **TINY_HEAD)
    state = {_to_unispeech(k): v.clone() for k, v in model.state_dict().items()}
    path = tmp_path_factory.mktemp("sim") / "wavlm_large_finetune.pth"
    torch.save({"model": state}, path)
    return model, state, path


def test_strict_loader_round_trip(tiny_ckpt, rng):
    model, _, path = tiny_ckpt
    enc = wavlm_ecapa.WavLMEcapaEncoder(path, config=_tiny_config(), **TINY_HEAD)
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
    with pytest.raises(wavlm_ecapa.CheckpointKeyError, match=r"1 missing: layer2\.SE_Connect\.linear1\.weight") as ei:
        wavlm_ecapa.WavLMEcapaEncoder(bad, config=_tiny_config(), **TINY_HEAD)
    assert "unexpected: trunk.encoder.layers.0.attention.bogus" in str(ei.value)
    shape = dict(state)
    shape["linear.weight"] = torch.zeros(3, 3)
    torch.save({"model": shape}, bad)
    with pytest.raises(wavlm_ecapa.CheckpointKeyError, match="another shape: linear.weight"):
        wavlm_ecapa.WavLMEcapaEncoder(bad, config=_tiny_config(), **TINY_HEAD)


def test_missing_checkpoint_raises(tmp_path):
    with pytest.raises(MissingWeightsError, match="wavlm_large_finetune.pth"):
        sim_mod.load_sim_model(f"wavlm_ecapa:{tmp_path / 'nope.pth'}")


def test_key_mapping_examples():
    f = wavlm_ecapa.unispeech_to_hf_key
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


# ---------------------------------------------------------------- the real checkpoint's key names
KEYS_FILE = Path(__file__).parent / "data" / "unispeech_wavlm_ecapa_keys.txt"


def _upstream_keys() -> dict[str, tuple[int, ...]]:
    """The tensors of UniSpeech's wavlm_large_finetune.pth (name -> shape), from the fixture."""
    out: dict[str, tuple[int, ...]] = {}
    for line in KEYS_FILE.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, shape = line.split("\t")
        assert name not in out, f"duplicate key {name}"
        out[name] = tuple(int(d) for d in shape.split(",") if d)
    return out


def _map_all(keys, ours) -> dict[str, str]:
    """upstream key -> our key; fails if two upstream keys land on one of ours."""
    mapped = {k: wavlm_ecapa.unispeech_to_hf_key(k, frozenset(ours)) for k in keys}
    seen: dict[str, str] = {}
    for k, new in mapped.items():
        assert new not in seen, f"{seen[new]} and {k} both map to {new}"
        seen[new] = k
    return mapped


def test_upstream_checkpoint_keys_map_exactly_onto_wavlm_large_ecapa():
    upstream = _upstream_keys()
    assert len(upstream) == 710
    with torch.device("meta"):  # shapes only, no 300M-parameter allocation
        model = wavlm_ecapa.build_wavlm_ecapa()
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mapped = _map_all(upstream, ours)
    assert sorted(set(ours) - set(mapped.values())) == []  # missing
    assert sorted(v for v in mapped.values() if v not in ours) == []  # unexpected
    assert {k: (shape, ours[mapped[k]]) for k, shape in upstream.items() if ours[mapped[k]] != shape} == {}


def test_strict_loader_accepts_upstream_names_on_tiny_config(tmp_path):
    """A checkpoint spelled with the fixture's (upstream) names loads strictly into a tiny model."""
    cfg = _tiny_config()
    model = wavlm_ecapa.build_wavlm_ecapa(cfg, **TINY_HEAD)
    ours = model.state_dict()
    n_conv, n_layers = len(cfg.conv_dim), cfg.num_hidden_layers

    def in_tiny(key: str) -> bool:
        m = re.search(r"conv_layers\.(\d+)\.", key)
        if m and int(m[1]) >= n_conv:
            return False
        m = re.search(r"encoder\.layers\.(\d+)\.", key)
        return not (m and int(m[1]) >= n_layers)

    keys = [k for k in _upstream_keys() if in_tiny(k)]
    mapped = _map_all(keys, ours)
    torch.manual_seed(1)
    state = {k: (torch.randn_like(ours[mapped[k]]) if ours[mapped[k]].is_floating_point()
                 else ours[mapped[k]].clone()) for k in keys}
    path = tmp_path / "wavlm_large_finetune.pth"
    torch.save({"model": state}, path)
    loaded = wavlm_ecapa.load_wavlm_ecapa_state(wavlm_ecapa.build_wavlm_ecapa(cfg, **TINY_HEAD), path)
    after = loaded.state_dict()
    for k in keys:
        torch.testing.assert_close(after[mapped[k]], state[k], rtol=0, atol=0)


def test_layer_features_follow_s3prl_hooks():
    """s3prl records every layer's input and the encoder's output; WavLM-Large is pre-LN, so the
    last state is the final layer's output after the encoder's LayerNorm."""
    cfg = _tiny_config()
    model = wavlm_ecapa.build_wavlm_ecapa(cfg, **TINY_HEAD)
    raw: list = []
    hook = model.trunk.encoder.layers[-1].register_forward_hook(lambda _m, _i, out: raw.append(out[0]))
    torch.manual_seed(2)
    x = torch.randn(1, 4000)
    try:
        with torch.no_grad():
            states = model.layer_features(x)
    finally:
        hook.remove()
    assert len(states) == cfg.num_hidden_layers + 1 == model.feature_weight.numel()
    with torch.no_grad():
        expected_last = model.trunk.encoder.layer_norm(raw[0])
    torch.testing.assert_close(states[-1], expected_last)
    assert not torch.allclose(states[-1], raw[0])
