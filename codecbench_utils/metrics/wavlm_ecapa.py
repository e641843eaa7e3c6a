"""The paper's speaker model for SIM: WavLM-Large + ECAPA-TDNN (UniSpeech's ``wavlm_large_finetune.pth``).

The WavLM trunk is ``transformers``' ``WavLMModel``; the ECAPA-TDNN head is written here;
checkpoint keys (s3prl/UniSpeech names) are mapped and loaded **strictly**: the reference loads
with ``strict=False`` and would silently keep random weights for any key it does not find.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidAudioError, MetricError, MissingWeightsError, require
from .sim import _check_wav

__all__ = ["WavLMEcapaEncoder", "CheckpointKeyError", "build_wavlm_ecapa", "load_wavlm_ecapa_state",
           "unispeech_to_hf_key", "wavlm_large_config", "WAVLM_ECAPA_HINT"]

WAVLM_ECAPA_HINT = (
    "download wavlm_large_finetune.pth from the UniSpeech speaker-verification release "
    "(github.com/microsoft/UniSpeech, downstreams/speaker_verification) and pass "
    "sim_model='wavlm_ecapa:/path/to/wavlm_large_finetune.pth'"
)


class CheckpointKeyError(MetricError):
    """A checkpoint's tensors do not match the model (missing or unexpected keys, wrong shapes)."""


def wavlm_large_config(**overrides: Any) -> Any:
    """``transformers.WavLMConfig`` of WavLM-Large (the trunk of UniSpeech's SV model)."""
    tf = require("transformers", purpose="the WavLM speaker model")
    kw: dict[str, Any] = dict(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
        feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=False,
        conv_dim=(512,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
        num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, num_buckets=320,
        max_bucket_distance=800, layer_norm_eps=1e-5, hidden_dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0, apply_spec_augment=False,
    )
    kw.update(overrides)
    return tf.WavLMConfig(**kw)


def _build_head_classes() -> dict[str, Any]:
    """ECAPA-TDNN blocks (UniSpeech's speaker-verification head), defined lazily so torch loads on demand."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Conv1dReluBn(nn.Module):
        def __init__(self, cin: int, cout: int, kernel_size: int = 1, padding: int = 0, dilation: int = 1):
            super().__init__()
            self.conv = nn.Conv1d(cin, cout, kernel_size, 1, padding, dilation, bias=True)
            self.bn = nn.BatchNorm1d(cout)

        def forward(self, x):
            return self.bn(F.relu(self.conv(x)))

    class Res2Conv1dReluBn(nn.Module):
        def __init__(self, channels: int, kernel_size: int, padding: int, dilation: int, scale: int):
            super().__init__()
            if channels % scale:
                raise ValueError(f"ECAPA: channels {channels} not divisible by scale {scale}")
            self.scale, self.width = scale, channels // scale
            self.nums = scale if scale == 1 else scale - 1
            self.convs = nn.ModuleList(nn.Conv1d(self.width, self.width, kernel_size, 1, padding, dilation)
                                       for _ in range(self.nums))
            self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(self.nums))

        def forward(self, x):
            out = []
            spx = torch.split(x, self.width, 1)
            sp = spx[0]
            for i in range(self.nums):
                sp = spx[i] if i == 0 else sp + spx[i]
                sp = self.bns[i](F.relu(self.convs[i](sp)))  # conv -> relu -> bn, as UniSpeech
                out.append(sp)
            if self.scale != 1:
                out.append(spx[self.nums])
            return torch.cat(out, dim=1)

    class SEConnect(nn.Module):
        def __init__(self, channels: int, bottleneck: int):
            super().__init__()
            self.linear1 = nn.Linear(channels, bottleneck)
            self.linear2 = nn.Linear(bottleneck, channels)

        def forward(self, x):
            s = torch.sigmoid(self.linear2(F.relu(self.linear1(x.mean(dim=2)))))
            return x * s.unsqueeze(2)

    class SERes2Block(nn.Module):
        def __init__(self, channels: int, dilation: int, bottleneck: int):
            super().__init__()
            self.Conv1dReluBn1 = Conv1dReluBn(channels, channels)
            self.Res2Conv1dReluBn = Res2Conv1dReluBn(channels, 3, dilation, dilation, scale=8)
            self.Conv1dReluBn2 = Conv1dReluBn(channels, channels)
            self.SE_Connect = SEConnect(channels, bottleneck)

        def forward(self, x):
            return self.SE_Connect(self.Conv1dReluBn2(self.Res2Conv1dReluBn(self.Conv1dReluBn1(x)))) + x

    class AttentiveStatsPool(nn.Module):
        def __init__(self, in_dim: int, attention_channels: int):
            super().__init__()
            self.linear1 = nn.Conv1d(in_dim, attention_channels, kernel_size=1)
            self.linear2 = nn.Conv1d(attention_channels, in_dim, kernel_size=1)

        def forward(self, x):
            alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(x))), dim=2)
            mean = torch.sum(alpha * x, dim=2)
            std = torch.sqrt((torch.sum(alpha * x**2, dim=2) - mean**2).clamp(min=1e-9))
            return torch.cat([mean, std], dim=1)

    class WavLMEcapa(nn.Module):
        """WavLM trunk -> softmax-weighted layer sum -> instance norm -> ECAPA-TDNN -> embedding."""

        def __init__(self, config: Any, channels: int = 512, emb_dim: int = 256, bottleneck: int = 128,
                     attention_channels: int = 128, out_channels: int = 1536):
            super().__init__()
            tf = require("transformers", purpose="the WavLM speaker model")
            self.trunk = tf.WavLMModel(config)
            feat_dim = config.hidden_size
            self.feature_weight = nn.Parameter(torch.zeros(config.num_hidden_layers + 1))
            self.instance_norm = nn.InstanceNorm1d(feat_dim)
            self.layer1 = Conv1dReluBn(feat_dim, channels, kernel_size=5, padding=2)
            self.layer2 = SERes2Block(channels, 2, bottleneck)
            self.layer3 = SERes2Block(channels, 3, bottleneck)
            self.layer4 = SERes2Block(channels, 4, bottleneck)
            self.conv = nn.Conv1d(channels * 3, out_channels, kernel_size=1)
            self.pooling = AttentiveStatsPool(out_channels, attention_channels)
            self.bn = nn.BatchNorm1d(out_channels * 2)
            self.linear = nn.Linear(out_channels * 2, emb_dim)

        def layer_features(self, wav):
            """s3prl's ``hidden_states``: the input of every layer, then the encoder's output.

            s3prl's WavLM wrapper hooks the input of each transformer layer and the
            output of the encoder; WavLM-Large is pre-LN (``layer_norm_first``), so
            that output has the encoder's final LayerNorm applied, as has
            ``last_hidden_state`` here.
            """
            wav = F.layer_norm(wav, wav.shape[-1:])  # WavLM-Large normalises each waveform
            states: list = []
            hooks = [layer.register_forward_pre_hook(
                lambda _m, args, kwargs: states.append(args[0] if args else kwargs["hidden_states"]),
                with_kwargs=True) for layer in self.trunk.encoder.layers]
            try:
                last = self.trunk(wav).last_hidden_state
            finally:
                for h in hooks:
                    h.remove()
            return [*states, last]

        def forward(self, wav):
            hs = torch.stack(self.layer_features(wav), dim=0)  # (L+1, B, T, D)
            w = torch.softmax(self.feature_weight, dim=-1)[:, None, None, None]
            x = (w * hs).sum(dim=0).transpose(1, 2) + 1e-6
            x = self.instance_norm(x)
            out1 = self.layer1(x)
            out2 = self.layer2(out1)
            out3 = self.layer3(out2)
            out4 = self.layer4(out3)
            out = F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))
            return self.linear(self.bn(self.pooling(out)))

    return {"WavLMEcapa": WavLMEcapa}


def build_wavlm_ecapa(config: Any = None, **head: Any) -> Any:
    """An untrained WavLM(+config)+ECAPA-TDNN module (WavLM-Large, 256-d embedding by default)."""
    cls = _build_head_classes()["WavLMEcapa"]
    model = cls(config if config is not None else wavlm_large_config(), **head)
    return model.eval()


_WAVLM_PREFIX = "feature_extract.model."


def unispeech_to_hf_key(key: str, hf_keys: set[str] | frozenset[str] = frozenset()) -> str:
    """Map a UniSpeech/s3prl checkpoint key to our module's key.

    WavLM tensors (``feature_extract.model.*``) go to ``trunk.*`` under
    ``transformers``' names; the ECAPA head keeps its names. ``hf_keys`` (our
    module's keys) picks between the two spellings of the weight-normed
    positional convolution.
    """
    if not key.startswith(_WAVLM_PREFIX):
        return key
    k = key[len(_WAVLM_PREFIX):]
    if k == "mask_emb":
        return "trunk.masked_spec_embed"
    m = re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)", k)
    if m:
        return f"trunk.feature_extractor.conv_layers.{m[1]}.conv.{m[2]}"
    m = re.fullmatch(r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)", k)
    if m:
        return f"trunk.feature_extractor.conv_layers.{m[1]}.layer_norm.{m[2]}"
    if k.startswith("post_extract_proj."):
        return "trunk.feature_projection.projection." + k.split(".", 1)[1]
    if k.startswith("layer_norm."):
        return "trunk.feature_projection.layer_norm." + k.split(".", 1)[1]
    if k.startswith("encoder.pos_conv.0."):
        suffix = k[len("encoder.pos_conv.0."):]
        param = {"weight_g": "parametrizations.weight.original0", "weight_v": "parametrizations.weight.original1"}
        if suffix in param and f"trunk.encoder.pos_conv_embed.conv.{param[suffix]}" in hf_keys:
            suffix = param[suffix]
        return f"trunk.encoder.pos_conv_embed.conv.{suffix}"
    m = re.fullmatch(r"encoder\.layers\.(\d+)\.(.+)", k)
    if m:
        s = m[2]
        for old, new in (("self_attn.grep_a", "attention.gru_rel_pos_const"),
                         ("self_attn.grep_linear.", "attention.gru_rel_pos_linear."),
                         ("self_attn.relative_attention_bias.", "attention.rel_attn_embed."),
                         ("self_attn_layer_norm.", "layer_norm."), ("self_attn.", "attention."),
                         ("fc1.", "feed_forward.intermediate_dense."), ("fc2.", "feed_forward.output_dense.")):
            if s.startswith(old):
                s = new + s[len(old):]
                break
        return f"trunk.encoder.layers.{m[1]}.{s}"
    return "trunk." + k  # encoder.layer_norm.* and anything unknown (reported as unexpected)


def load_wavlm_ecapa_state(model: Any, path: str | Path) -> Any:
    """Load UniSpeech's ``wavlm_large_finetune.pth`` into ``model`` with strict key checking.

    Raises
    ------
    MissingWeightsError
        No file at ``path``.
    CheckpointKeyError
        The file is not a ``{"model": state_dict}`` checkpoint, or keys are
        missing / unexpected, or shapes differ; the message lists them.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(f"sim model 'wavlm_ecapa': no checkpoint at '{path}'; {WAVLM_ECAPA_HINT}",
                                  metric="sim")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointKeyError(f"sim model 'wavlm_ecapa': cannot read '{path}': {exc}", metric="sim") from exc
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise CheckpointKeyError(f"sim model 'wavlm_ecapa': '{path}' holds no state dict", metric="sim")
    ours = model.state_dict()
    our_keys = set(ours)
    mapped = {unispeech_to_hf_key(k, our_keys): v for k, v in state.items()}
    missing = sorted(our_keys - set(mapped))
    unexpected = sorted(set(mapped) - our_keys)
    bad_shape = sorted(k for k in our_keys & set(mapped) if tuple(ours[k].shape) != tuple(mapped[k].shape))
    if missing or unexpected or bad_shape:
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:20]) + (f" ... (+{len(keys) - 20} more)" if len(keys) > 20 else "")

        parts = []
        if missing:
            parts.append(f"{len(missing)} missing: {show(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected: {show(unexpected)}")
        if bad_shape:
            parts.append(f"{len(bad_shape)} with another shape: "
                         + show([f"{k} {tuple(mapped[k].shape)} vs {tuple(ours[k].shape)}" for k in bad_shape]))
        raise CheckpointKeyError(f"sim model 'wavlm_ecapa': '{path}' does not match the model ("
                                 + "; ".join(parts) + "); is it UniSpeech's wavlm_large_finetune.pth?",
                                 metric="sim")
    model.load_state_dict(mapped, strict=True)
    return model.eval()


class WavLMEcapaEncoder:
    """WavLM-Large + ECAPA-TDNN (UniSpeech SV checkpoint), strict loading; 16 kHz input."""

    def __init__(self, path: str | Path, *, device: str = "cpu", config: Any = None, **head: Any) -> None:
        path = Path(path)
        if not path.is_file():  # fail before building a 300M-parameter model
            raise MissingWeightsError(f"sim model 'wavlm_ecapa': no checkpoint at '{path}'; {WAVLM_ECAPA_HINT}",
                                      metric="sim")
        self.device = device
        self.model = load_wavlm_ecapa_state(build_wavlm_ecapa(config, **head), path).to(device)
        h = hashlib.sha1()
        with path.open("rb") as fh:
            h.update(fh.read(1 << 20))
        self.name = f"wavlm_ecapa-{h.hexdigest()[:8]}"

    def embed(self, wavs: Sequence[np.ndarray], sr: int) -> np.ndarray:
        import torch

        if sr != 16000:
            raise InvalidAudioError(f"sim: the WavLM model needs 16 kHz audio, got {sr}", metric="sim")
        out = []
        with torch.inference_mode():
            for i, wav in enumerate(wavs):
                wav = _check_wav(wav, sr, "ref" if i == 0 else "est")
                x = torch.from_numpy(np.asarray(wav, dtype=np.float32))[None].to(self.device)
                out.append(self.model(x)[0].double().cpu().numpy())
        return np.asarray(out)
