"""A tiny StyleTTS2 model with random weights, laid out on disk like the downloaded one.

It goes through the same config, loader and inference as the real LibriTTS checkpoint, so the
engine can be tested without a download. The decoder's front end has fixed widths in the
package (1024 channels), so most of the size is there; the vocoder narrows fast instead.
Durations are initialised to about 3 frames (75 ms) per phoneme so that speech lasts as long
as real speech would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.engines.styletts2 import files as model_files

TINY_CONFIG: dict[str, Any] = {
    "model_params": {
        "multispeaker": True,
        "dim_in": 8,
        "hidden_dim": 512,  # the decoder hard-codes 512 input channels
        "max_conv_dim": 512,
        "n_layer": 1,
        "n_mels": 80,
        "n_token": 178,
        "max_dur": 6,
        "style_dim": 16,
        "dropout": 0.2,
        "decoder": {
            "type": "hifigan",
            "resblock_kernel_sizes": [3],
            "upsample_rates": [2, 2, 3, 5, 5],  # 300 samples per pitch frame, as in LibriTTS
            "upsample_initial_channel": 512,
            "resblock_dilation_sizes": [[1, 3, 5]],
            "upsample_kernel_sizes": [4, 4, 6, 10, 10],
        },
        "slm": {"model": "none", "sr": 16000, "hidden": 32, "nlayers": 2, "initial_channel": 8},
        "diffusion": {
            "embedding_mask_proba": 0.1,
            "transformer": {"num_layers": 1, "num_heads": 2, "head_features": 8, "multiplier": 1},
            "dist": {"sigma_data": 0.2, "estimate_sigma_data": True, "mean": -3.0, "std": 1.0},
        },
    }
}

TINY_PLBERT: dict[str, Any] = {
    "model_params": {
        "vocab_size": 178,
        "hidden_size": 32,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
        "num_hidden_layers": 1,
        "embedding_size": 16,
        "dropout": 0.1,
    }
}


def build_tiny_model(root: Path, seed: int = 1234) -> Path:
    """Write a complete tiny model folder at `root` and return it."""
    import torch
    import yaml
    from styletts2.utils import recursive_munch

    from pipelines.engines.styletts2.loader import build_inference_nets

    torch.manual_seed(seed)
    (root / "LibriTTS").mkdir(parents=True, exist_ok=True)
    (root / "PLBERT").mkdir(parents=True, exist_ok=True)
    (root / model_files.CONFIG).write_text(yaml.safe_dump(TINY_CONFIG), encoding="utf-8")
    (root / model_files.PLBERT_CONFIG).write_text(yaml.safe_dump(TINY_PLBERT), encoding="utf-8")

    from styletts2.Utils.PLBERT.util import CustomAlbert
    from transformers import AlbertConfig

    bert = CustomAlbert(AlbertConfig(**TINY_PLBERT["model_params"]))
    nets = build_inference_nets(recursive_munch(TINY_CONFIG["model_params"]), bert)
    proj = nets["predictor"].duration_proj.linear_layer
    with torch.no_grad():
        # sigmoid(~0) * max_dur (6) ~ 3 frames of 25 ms per phoneme: plausible speech rate.
        proj.weight.mul_(0.01)
        proj.bias.zero_()
    state = {
        name: {k: v.half() if v.is_floating_point() else v for k, v in m.state_dict().items()}
        for name, m in nets.items()
    }
    torch.save({"net": state, "epoch": 0}, root / model_files.CHECKPOINT)
    return root


_BUILT: list[Path] = []


def tiny_model_for_tests() -> Path:
    """Build the tiny model once per test session and point the engine (and its worker
    processes, through the environment) at it. Skips when the styletts2 extra is missing."""
    import importlib.util
    import os
    import tempfile

    import pytest

    missing = [
        p for p in ("torch", "torchaudio", "styletts2") if importlib.util.find_spec(p) is None
    ]
    if missing:
        pytest.skip(
            f"StyleTTS2 needs {', '.join(missing)}: pip install 'audiobook-studio[styletts2]'"
        )
    if not _BUILT:
        import atexit
        import shutil

        root = Path(tempfile.mkdtemp(prefix="styletts2-tiny-"))
        atexit.register(shutil.rmtree, root, True)
        _BUILT.append(build_tiny_model(root))
    os.environ[model_files.MODEL_DIR_ENV] = str(_BUILT[0])
    return _BUILT[0]
