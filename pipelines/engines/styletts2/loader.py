"""Load a StyleTTS2 model from local files only, with the package's own building blocks.

The `styletts2` package's loader fetches files itself (its pitch-model check is inverted, so it
always does) and its `tts` module downloads NLTK data on import. This loader never imports that
module: it reads the config, builds the modules inference needs from the package's classes and
loads the checkpoint's weights into them. The training-only parts (text aligner, pitch
extractor, discriminators) are not built at all, which saves memory and start-up time.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.errors import StudioError
from pipelines.engines.styletts2.device import DeviceChoice, choose_device, cpu_threads
from pipelines.engines.styletts2.files import ModelFiles, fingerprint

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def go_offline() -> None:
    """Tell every library underneath that the network is off limits (before importing them)."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(eq=False)
class LoadedModel:
    nets: dict[str, Any]  # text_encoder, bert, bert_encoder, predictor, decoder, style encoders
    params: Any  # the config's model_params (a Munch)
    sampler: Any  # the style diffusion sampler
    device: DeviceChoice
    fingerprint: str
    context: Any  # batching.LengthContext shared by the padding-aware modules
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def style_dim(self) -> int:
        return int(self.params.style_dim)

    @property
    def hifigan(self) -> bool:
        return str(self.params.decoder.type) == "hifigan"


_CACHE: dict[tuple[str, str, str], LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def load(files: ModelFiles, device: str | None = None) -> LoadedModel:
    """The model in `files` on `device`, loaded once per process."""
    key = (str(files.root), fingerprint(files), device or "")
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            model = _load(files, device)
            _CACHE[key] = model
        return model


def _read_yaml(path: Any) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise StudioError(path, f"cannot read the model config ({exc})", _REDOWNLOAD) from None
    if not isinstance(data, dict) or not isinstance(data.get("model_params"), dict):
        raise StudioError(path, "the model config has no model_params section", _REDOWNLOAD)
    return data


_REDOWNLOAD = "run `audiobook-studio models download styletts2` again"


def _load(files: ModelFiles, device: str | None) -> LoadedModel:
    go_offline()
    import torch
    from styletts2.Modules.diffusion.sampler import ADPM2Sampler, DiffusionSampler, KarrasSchedule
    from styletts2.utils import recursive_munch

    from pipelines.engines.styletts2 import batching

    choice = choose_device(torch, device)
    if choice.kind == "cpu":
        torch.set_num_threads(cpu_threads())
    config = _read_yaml(files.config)
    params = recursive_munch(config["model_params"])
    with warnings.catch_warnings():
        # The package builds with deprecated torch helpers; the warnings say nothing to a user.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        bert = _build_plbert(files)
        nets = build_inference_nets(params, bert)
    state = _torch_load(files.checkpoint)
    weights = state.get("net") if isinstance(state, dict) else None
    if not isinstance(weights, dict):
        raise StudioError(files.checkpoint, "the checkpoint has no 'net' weights", _REDOWNLOAD)
    if "bert" not in weights:
        _load_plbert_weights(bert, files)
    for name, module in nets.items():
        if name in weights:
            _load_state(module, weights[name], files)
        elif name != "bert":
            raise StudioError(files.checkpoint, f"the checkpoint lacks '{name}'", _REDOWNLOAD)
    for module in nets.values():
        _bake_weight_norm(module)
    context = batching.LengthContext()
    batching.install([nets["predictor"], nets["decoder"]], context)
    for module in nets.values():
        module.eval()
        module.to(choice.name)
    sampler = DiffusionSampler(
        nets["diffusion"].diffusion,
        sampler=ADPM2Sampler(),
        # The sampling schedule the StyleTTS2 authors found best empirically.
        sigma_schedule=KarrasSchedule(sigma_min=0.0001, sigma_max=3.0, rho=9.0),
        clamp=False,
    )
    return LoadedModel(nets, params, sampler, choice, fingerprint(files), context)


def _bake_weight_norm(root: Any) -> None:
    """Fold weight normalisation into plain weights: it only matters in training, and
    recomputing it on every call costs time at inference."""
    from torch.nn.utils import parametrize, remove_weight_norm

    for module in root.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        elif hasattr(module, "weight_g") and hasattr(module, "weight_v"):
            remove_weight_norm(module)


def build_inference_nets(params: Any, bert: Any) -> dict[str, Any]:
    """The modules inference uses, built as the package's `build_model` builds them."""
    from styletts2.models import ProsodyPredictor, StyleEncoder, TextEncoder
    from styletts2.Modules.diffusion.diffusion import AudioDiffusionConditional
    from styletts2.Modules.diffusion.modules import StyleTransformer1d, Transformer1d
    from styletts2.Modules.diffusion.sampler import KDiffusion, LogNormalDistribution
    from torch import nn

    dec = params.decoder
    if dec.type == "istftnet":
        from styletts2.Modules.istftnet import Decoder as IstftDecoder

        decoder = IstftDecoder(
            dim_in=params.hidden_dim,
            style_dim=params.style_dim,
            dim_out=params.n_mels,
            resblock_kernel_sizes=dec.resblock_kernel_sizes,
            upsample_rates=dec.upsample_rates,
            upsample_initial_channel=dec.upsample_initial_channel,
            resblock_dilation_sizes=dec.resblock_dilation_sizes,
            upsample_kernel_sizes=dec.upsample_kernel_sizes,
            gen_istft_n_fft=dec.gen_istft_n_fft,
            gen_istft_hop_size=dec.gen_istft_hop_size,
        )
    elif dec.type == "hifigan":
        from styletts2.Modules.hifigan import Decoder as HifiganDecoder

        decoder = HifiganDecoder(
            dim_in=params.hidden_dim,
            style_dim=params.style_dim,
            dim_out=params.n_mels,
            resblock_kernel_sizes=dec.resblock_kernel_sizes,
            upsample_rates=dec.upsample_rates,
            upsample_initial_channel=dec.upsample_initial_channel,
            resblock_dilation_sizes=dec.resblock_dilation_sizes,
            upsample_kernel_sizes=dec.upsample_kernel_sizes,
        )
    else:
        raise ValueError(f"unknown decoder type {dec.type!r}")
    hidden = bert.config.hidden_size
    if params.multispeaker:
        transformer = StyleTransformer1d(
            channels=params.style_dim * 2,
            context_embedding_features=hidden,
            context_features=params.style_dim * 2,
            **params.diffusion.transformer,
        )
    else:
        transformer = Transformer1d(
            channels=params.style_dim * 2,
            context_embedding_features=hidden,
            **params.diffusion.transformer,
        )
    diffusion = AudioDiffusionConditional(
        in_channels=1,
        embedding_max_length=bert.config.max_position_embeddings,
        embedding_features=hidden,
        embedding_mask_proba=params.diffusion.embedding_mask_proba,
        channels=params.style_dim * 2,
        context_features=params.style_dim * 2,
    )
    diffusion.diffusion = KDiffusion(
        net=diffusion.unet,
        sigma_distribution=LogNormalDistribution(
            mean=params.diffusion.dist.mean, std=params.diffusion.dist.std
        ),
        sigma_data=params.diffusion.dist.sigma_data,
        dynamic_threshold=0.0,
    )
    diffusion.diffusion.net = transformer
    diffusion.unet = transformer
    return {
        "bert": bert,
        "bert_encoder": nn.Linear(hidden, params.hidden_dim),
        "predictor": ProsodyPredictor(
            style_dim=params.style_dim,
            d_hid=params.hidden_dim,
            nlayers=params.n_layer,
            max_dur=params.max_dur,
            dropout=params.dropout,
        ),
        "decoder": decoder,
        "text_encoder": TextEncoder(
            channels=params.hidden_dim,
            kernel_size=5,
            depth=params.n_layer,
            n_symbols=params.n_token,
        ),
        "predictor_encoder": StyleEncoder(
            dim_in=params.dim_in, style_dim=params.style_dim, max_conv_dim=params.hidden_dim
        ),
        "style_encoder": StyleEncoder(
            dim_in=params.dim_in, style_dim=params.style_dim, max_conv_dim=params.hidden_dim
        ),
        "diffusion": diffusion,
    }


def _build_plbert(files: ModelFiles) -> Any:
    # Imported from its own module: styletts2.Utils.PLBERT.util pulls in nothing that downloads.
    from styletts2.Utils.PLBERT.util import CustomAlbert
    from transformers import AlbertConfig

    config = _read_yaml(files.plbert_config)
    return CustomAlbert(AlbertConfig(**config["model_params"]))


def _torch_load(path: Any) -> Any:
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # Older checkpoints pickle more than tensors. These files come from the checksummed
        # download or from a folder the user chose, so a full load is what they asked for.
        pass
    except Exception as exc:
        raise StudioError(path, f"cannot read the checkpoint ({exc})", _REDOWNLOAD) from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise StudioError(path, f"cannot read the checkpoint ({exc})", _REDOWNLOAD) from None


def _load_plbert_weights(bert: Any, files: ModelFiles) -> None:
    path = files.plbert_checkpoint
    if not path.is_file():
        raise StudioError(path, "the PL-BERT weights are missing", _REDOWNLOAD)
    state = _torch_load(path)["net"]
    # Saved from a DataParallel-wrapped training model: strip "module." and "encoder.".
    cleaned = {}
    for key, value in state.items():
        name = key.removeprefix("module.")
        if name.startswith("encoder."):
            cleaned[name.removeprefix("encoder.")] = value
    cleaned.pop("embeddings.position_ids", None)
    bert.load_state_dict(cleaned, strict=False)


def _load_state(module: Any, state: dict[str, Any], files: ModelFiles) -> None:
    try:
        module.load_state_dict(state)
        return
    except RuntimeError:
        pass
    # Checkpoints saved from DataParallel prefix every key with "module.".
    stripped = {k.removeprefix("module."): v for k, v in state.items()}
    try:
        result = module.load_state_dict(stripped, strict=False)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise StudioError(
            files.checkpoint, f"the checkpoint does not fit its config ({first})", _REDOWNLOAD
        ) from None
    # Extra keys (training leftovers) are harmless; a missing weight would mean random noise.
    if result.missing_keys:
        raise StudioError(
            files.checkpoint,
            f"the checkpoint lacks weights such as {result.missing_keys[0]}",
            _REDOWNLOAD,
        )
