"""FlowDec (Welker et al., ICLR 2025) from a local checkout of github.com/facebookresearch/FlowDec.

FlowDec is two models run one after the other, both shipped in the release archive
``checkpoints.zip`` (github.com/facebookresearch/FlowDec/releases, tag ``checkpoints``):

* the underlying codec NDAC-75, a DAC-style encoder + residual VQ (codebooks of 1024) at
  75 Hz on 48 kHz audio (hop 640), loaded with the ``descript-audio-codec`` package
  (``dac.DAC.load(<ckpts>/ndac/ndac-75/800k/dac/weights.pth)``; audiotools weights format,
  ``{"state_dict", "metadata": {"kwargs"}}``);
* the flow-matching postfilter FlowDec-75m, ``flowdec.model.FlowModel`` built from the
  checkout's Hydra config ``config/flowdec_75m.yaml`` (``hydra.compose`` +
  ``hydra.utils.instantiate(conf["model"])``) and filled from the Lightning checkpoint
  ``<ckpts>/flowdec/flowdec_75m/step=800000.ckpt`` (EMA weights under ``_pl_ema_state_dict``,
  plain ones under ``state_dict``).

This follows the upstream inference notebook ``demo.ipynb`` (FlowDec commit 26ec106, July 2025)
and the DAC 1.0.0 API: ``encode`` runs ``DAC.preprocess`` then
``DAC.encode(x, n_quantizers=n_q)`` -> ``(z, codes, latents, ...)``; ``decode`` runs
``DAC.quantizer.from_codes(codes)`` -> ``DAC.decode(z_q)`` -> ``FlowModel.enhance(y, N=n_steps,
solver=...)`` and, like the notebook, scales the result down when its peak exceeds 1.

``embed`` returns ``z`` from ``DAC.encode(x, n_quantizers=n_q)``: the quantized continuous
latent, i.e. the sum over the first ``n_q`` codebooks of each code vector passed through its
quantizer's ``out_proj`` (what ``quantizer.from_codes`` rebuilds on decode), shape
``(frames, D)`` with ``D = DAC.latent_dim`` (1024 for the standard DAC encoder; read from the
loaded NDAC model, never assumed). Inputs are right-padded to whole 640-sample frames
(``frames = ceil(n / 640)``, as ``DAC.preprocess`` does) and outputs trimmed to the input length.

Options (``params/codecs/flowdec_*.yaml``):

``repo_dir``
    the FlowDec checkout (its ``flowdec`` package and ``config/`` folder are used).
``checkpoint``
    the unzipped ``checkpoints/`` folder of ``checkpoints.zip``, or the FlowDec ``.ckpt`` file
    itself (then NDAC is looked up in the same ``checkpoints/`` tree, or set ``dac_weights``).
``n_steps``
    solver steps ``N`` of ``FlowModel.enhance`` (upstream: NFE = N for Euler, 2N for midpoint).
``solver`` (default ``midpoint``, as upstream's ``enhance.py``), ``model`` (config name, default
``flowdec_75m``), ``dac_weights``, ``ema`` (default true), ``seed`` (default 0: the postfilter
draws its initial noise from a seeded, forked RNG so decoding is repeatable; ``null`` to not seed).

Besides torch, the checkout's requirements must be installed (``pip install -r requirements.txt``
in the checkout: ``descript-audio-codec``, ``hydra-core``, ``pytorch-lightning``, ``torchcfm``, ...).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import CodecRuntimeError, MissingDependencyError, MissingWeightsError, first_line
from .base import CodecSpec, Encoded
from .checkout import RepoCheckoutCodec, _on_sys_path, option_path

__all__ = ["FlowDecCodec"]

_RELEASE = "https://github.com/facebookresearch/FlowDec/releases/download/checkpoints/checkpoints.zip"
#: the NDAC codec each FlowDec model postfilters (demo.ipynb)
_NDAC_FOR = {"flowdec_75m": "ndac-75", "flowdec_25s": "ndac-25"}


def _import_error_in(exc: BaseException) -> ImportError | None:
    """The ImportError that ``exc`` is or was raised from, if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ImportError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


class FlowDecCodec(RepoCheckoutCodec):
    """FlowDec (Welker et al., ICLR 2025): DAC-style RVQ at 75 Hz + flow-matching postfilter, 48 kHz."""

    SOURCE = "github.com/facebookresearch/FlowDec"
    PATHS = {
        "repo_dir": "clone https://github.com/facebookresearch/FlowDec and point options.repo_dir at it",
        "checkpoint": f"download {_RELEASE}, unzip it and point options.checkpoint at its checkpoints/ folder",
    }
    HOP = 640  # 48 kHz / 75 Hz
    DEFAULT_MODEL = "flowdec_75m"
    FLOWDEC_CKPT = "flowdec/{model}/step=800000.ckpt"
    DAC_WEIGHTS = "ndac/{ndac}/800k/dac/weights.pth"
    PIP_HINT = ("install the FlowDec checkout's requirements (pip install -r requirements.txt there; "
                "descript-audio-codec==1.0.0, hydra-core, pytorch-lightning, torchcfm, torchdyn, ...)")

    @classmethod
    def _resolve_paths(cls, spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> dict[str, Path]:
        out = super()._resolve_paths(spec, weights)
        model = str(spec.options.get("model") or cls.DEFAULT_MODEL)
        ndac = _NDAC_FOR.get(model, "ndac-75")
        ckpt = out["checkpoint"]
        root = ckpt if ckpt.is_dir() else None
        if root is not None:
            out["flowdec_ckpt"] = root / cls.FLOWDEC_CKPT.format(model=model)
        else:
            out["flowdec_ckpt"] = ckpt
            # <root>/flowdec/<model>/step=800000.ckpt -> <root>
            root = ckpt.parent.parent.parent
        if spec.options.get("dac_weights"):
            out["dac_weights"] = option_path(spec, "dac_weights")
        else:
            out["dac_weights"] = root / cls.DAC_WEIGHTS.format(ndac=ndac)
        hows = {
            "flowdec_ckpt": f"the FlowDec postfilter checkpoint ({cls.FLOWDEC_CKPT.format(model=model)} "
                            f"in {_RELEASE})",
            "dac_weights": f"the {ndac.upper()} codec weights ({cls.DAC_WEIGHTS.format(ndac=ndac)} in {_RELEASE}; "
                           "or set options.dac_weights)",
        }
        for key, how in hows.items():
            if not out[key].is_file():
                raise MissingWeightsError(f"codec '{spec.id}': {key} not found at {out[key]}; expected {how}",
                                          codec_id=spec.id)
        return out

    # -- loading -------------------------------------------------------------------------------------

    def _need(self, module: str) -> Any:
        try:
            return self._import(module)
        except MissingDependencyError as exc:
            raise MissingDependencyError(f"{exc}; {self.PIP_HINT}", codec_id=self.id) from exc

    def _load(self) -> None:
        import torch

        opts = self.spec.options
        self.n_steps = int(opts.get("n_steps", 6))
        self.solver = str(opts.get("solver", "midpoint"))
        seed = opts.get("seed", 0)
        self.seed = None if seed is None else int(seed)
        model_name = str(opts.get("model") or self.DEFAULT_MODEL)

        dac = self._need("dac")
        hydra = self._need("hydra")
        hydra_utils = self._need("hydra.utils")
        global_hydra = self._need("hydra.core.global_hydra")

        self.dac = dac.DAC.load(str(self.paths["dac_weights"]))
        self._check_dac()

        gh = global_hydra.GlobalHydra.instance()
        if gh.is_initialized():  # CodecBench itself never initializes Hydra
            gh.clear()
        config_dir = (self.paths["repo_dir"] / "config").resolve()
        repo = self.paths["repo_dir"]
        with _on_sys_path(repo):  # instantiate imports the flowdec.* _target_ classes
            try:
                with hydra.initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
                    conf = hydra.compose(config_name=model_name)
                flow = hydra_utils.instantiate(conf["model"])
            except Exception as exc:  # Hydra wraps import errors in InstantiationException
                missing = _import_error_in(exc)
                if missing is not None:
                    raise MissingDependencyError(f"codec '{self.id}': building {model_name} from {repo}: "
                                                 f"{missing}; {self.PIP_HINT}", codec_id=self.id) from exc
                raise CodecRuntimeError(f"codec '{self.id}': building {model_name} from {repo} failed: {exc}",
                                        codec_id=self.id) from exc

        ckpt = _load_lightning_checkpoint(self.paths["flowdec_ckpt"], trust=bool(opts.get("trust_checkpoint")),
                                          codec_id=self.id)
        key = "_pl_ema_state_dict" if opts.get("ema", True) else "state_dict"
        if key not in ckpt:
            raise CodecRuntimeError(f"codec '{self.id}': {self.paths['flowdec_ckpt']} has no '{key}' "
                                    f"(keys: {sorted(ckpt)})", codec_id=self.id)
        flow.load_state_dict(ckpt[key])
        self.dac = self.dac.eval().to(self.device)
        self.flow = flow.eval().to(self.device)
        self.model = torch.nn.ModuleDict({"dac": self.dac, "flow": self.flow})

    def _check_dac(self) -> None:
        sr, hop = int(self.dac.sample_rate), int(np.prod(self.dac.hop_length))
        n_codebooks = int(self.dac.n_codebooks)
        if sr != self.sample_rate or hop != self.HOP or self.n_q > n_codebooks:
            raise CodecRuntimeError(f"codec '{self.id}': {self.paths['dac_weights']} is a {sr} Hz codec with hop "
                                    f"{hop} and {n_codebooks} codebooks; expected {self.sample_rate} Hz, hop "
                                    f"{self.HOP} and at least {self.n_q} codebooks", codec_id=self.id)

    # -- codec protocol ------------------------------------------------------------------------------

    def _quantize(self, wav: np.ndarray) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            x = self.dac.preprocess(self._tensor(wav), self.sample_rate)  # (1, 1, T), whole frames
            z, codes, *_ = self.dac.encode(x, n_quantizers=self.n_q)
        return z, codes  # (1, D, F), (1, n_q, F)

    def encode(self, wav: np.ndarray) -> Encoded:
        _, codes = self._quantize(wav)
        return self._encoded(codes[0, : self.n_q].cpu().numpy(), len(wav))

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        codes = torch.as_tensor(np.asarray(encoded.codes), dtype=torch.long, device=self.device)[None]
        with torch.inference_mode():
            z_q, _, _ = self.dac.quantizer.from_codes(codes)  # (1, D, F)
            y = self.dac.decode(z_q)  # NDAC output (1, 1, T)
            x = self._postfilter(y)
            peak = x.abs().max()
            if peak > 1.0:  # as upstream's notebook: rescale rather than clip
                x = x / peak
        return fit_length(x.reshape(-1).float().cpu().numpy(), encoded.n_samples)

    def _postfilter(self, y: Any) -> Any:
        with self._seeded(self.seed):
            return self.flow.enhance(y, N=self.n_steps, solver=self.solver)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        z, _ = self._quantize(wav)
        return z[0].T[: self.frames_for(len(wav))].float().cpu().numpy()


def _load_lightning_checkpoint(path: Any, *, trust: bool, codec_id: str) -> dict:
    """Load a Lightning checkpoint with ``weights_only=True``; full unpickling only when the YAML says so.

    A pickle can run code when it loads, so a tampered file in a shared folder must not be
    unpickled unless the user vouches for it (``options.trust_checkpoint: true``).
    """
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as exc:
        raise CodecRuntimeError(
            f"codec '{codec_id}': {path} holds Python objects besides tensors ({first_line(exc)}); if you trust "
            f"this file, set options.trust_checkpoint: true in params/codecs/{codec_id}.yaml to load it in full",
            codec_id=codec_id) from exc
