"""The Higgs-Audio v2 tokenizer adapter against transformers' real model, in a process given a stand-in torchaudio.

transformers builds ``HiggsAudioV2TokenizerModel`` only when torchaudio is installed, and no torchaudio
matches the pinned torch. The model's one use of it is ``torchaudio.functional.resample``; the stand-in
package (written here, used only in the child process) serves it with CodecBench's reimplementation.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from codecbench_utils.codecs.registry import codec_class, get_spec

pytest.importorskip("transformers")

CHILD = textwrap.dedent('''
    import json, numpy as np, torch, transformers as tf
    from codecbench_utils.codecs.base import CodecSpec
    from codecbench_utils.codecs.conformance import check_codec
    from codecbench_utils.codecs.hf_higgs import HiggsAudioV2Codec
    semantic = dict(model_type="hubert", hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8,
                    conv_dim=[4, 4], conv_stride=[5, 64], conv_kernel=[10, 64], num_conv_pos_embeddings=4,
                    num_conv_pos_embedding_groups=2)
    acoustic = dict(encoder_hidden_size=4, downsampling_ratios=[8, 5, 4, 2, 3], upsampling_ratios=[8, 5, 4, 2, 3],
                    decoder_hidden_size=64, hidden_size=16, codebook_dim=4)
    cfg = tf.HiggsAudioV2TokenizerConfig(acoustic_model_config=acoustic, semantic_model_config=semantic,
                                         codebook_size=16, codebook_dim=4, target_bandwidths=[0.1, 0.2, 0.4])
    torch.manual_seed(0)
    model = tf.HiggsAudioV2TokenizerModel(cfg).eval()
    spec = CodecSpec(id="tiny_higgs", family="higgs_audio_v2", backend="hf_higgs", sample_rate=24000, n_q=2,
                     codebook_size=16, frame_rate=25.0, embedding_dim=cfg.hidden_size)
    codec = HiggsAudioV2Codec.from_model(spec, model)
    x = (0.1 * np.random.default_rng(0).standard_normal(24 * 960)).astype(np.float32)  # whole frames: no padding
    enc = codec.encode(x)
    with torch.inference_mode():
        codes = model.encode(torch.from_numpy(x)[None, None], bandwidth=0.2).audio_codes
        audio = model.decode(codes).audio_values[0, 0].numpy()
        latent = model.quantizer.decode(codes.transpose(0, 1))[0].T.numpy()
    report = check_codec(codec)
    print(json.dumps({
        "shape": list(enc.codes.shape), "n_bits": enc.n_bits, "bandwidth": codec.bandwidth,
        "codes_equal": bool(np.array_equal(enc.codes, codes[0].numpy())),
        "audio_err": float(np.max(np.abs(codec.decode(enc) - audio[: x.size]))),
        "embed_err": float(np.max(np.abs(codec.embed(x) - latent))),
        "conformance": report.status(), "ok": report.ok}))
''')


def _stand_in_torchaudio(root):
    pkg = root / "torchaudio"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('from . import functional  # noqa: F401\n__version__ = "0.0.0+codecbench-test"\n')
    (pkg / "functional.py").write_text(
        "from codecbench_utils.metrics.resample import resample_torchaudio_tensor as resample  # noqa: F401\n")
    info = root / "torchaudio-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torchaudio\nVersion: 0.0.0\n")


@pytest.mark.skipif(importlib.util.find_spec("torchaudio") is not None, reason="a real torchaudio is installed")
def test_higgs_adapter_drives_transformers_model(tmp_path):
    _stand_in_torchaudio(tmp_path)
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["shape"] == [2, 24] and got["n_bits"] == 2 * 24 * 4 and got["bandwidth"] == 0.2
    assert got["codes_equal"] and got["audio_err"] < 1e-5 and got["embed_err"] < 1e-6, got
    assert got["ok"], got["conformance"]
    assert {k: got["conformance"][k] for k in ("length", "sample_rate", "deterministic", "batch", "embeddings")} == \
        dict.fromkeys(("length", "sample_rate", "deterministic", "batch", "embeddings"), "pass")


@pytest.mark.skipif(importlib.util.find_spec("torchaudio") is not None, reason="a real torchaudio is installed")
def test_without_torchaudio_higgs_says_what_is_missing():
    from codecbench_utils.errors import MissingDependencyError

    spec = get_spec("higgs_audio_v2_nq8")
    reason = codec_class(spec).available(spec)
    assert reason and "needs torchaudio" in reason and "pip install torchaudio" in reason
    with pytest.raises(MissingDependencyError, match="needs torchaudio"):
        codec_class(spec)(spec)
