"""StyleTTS2 speed: real-time factor and peak GPU memory for batch sizes 1 to N.

    python bench/styletts2_bench.py                 # the downloaded LibriTTS model, best device
    python bench/styletts2_bench.py --max-batch 32  # on a big GPU
    python bench/styletts2_bench.py --tiny          # CPU smoke check with the tiny random model

RTF = seconds of computing per second of speech (lower is faster). Each batch size renders the
same sentences, after one warm-up pass; the time covers text encoding, style diffusion,
prosody and the vocoder, not phonemization.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SENTENCES = [
    "The ferry left the harbour an hour before dawn, and nobody on the quay had expected it.",
    "By noon the islands were plain against a hard blue sky.",
    "Martha counted the crates twice and wrote the total in her book.",
    "Her brother laughed and said the sea would not care about her sums.",
    "Still, she kept the ledger dry inside her coat all afternoon.",
    "When the wind turned, the gulls came back to the harbour wall one by one.",
    "The lamplighter walked the length of the street before the town had electric light.",
    "He greeted everyone he passed by name, and the children followed him from post to post.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="use the tiny random-weight model")
    parser.add_argument("--device", default="", help="auto, cuda, mps or cpu")
    parser.add_argument("--max-batch", type=int, default=0, help="largest batch (default 16 GPU)")
    parser.add_argument("--sentences", type=int, default=32, help="sentences per measurement")
    parser.add_argument("--diffusion-steps", type=int, default=5)
    args = parser.parse_args()

    import torch

    from pipelines.engines.styletts2 import files, loader, style, text
    from pipelines.engines.styletts2.engine import STARTER_DIR
    from pipelines.engines.styletts2.inference import SentenceJob, StyleSettings, synthesize_batch

    if args.tiny:
        from tests.styletts2_tiny import build_tiny_model

        root = build_tiny_model(Path(tempfile.mkdtemp(prefix="styletts2-bench-")))
        model_files = files.ModelFiles(root)
    else:
        model_files = files.locate()
    t0 = time.perf_counter()
    model = loader.load(model_files, args.device or None)
    load_s = time.perf_counter() - t0
    device = model.device
    cuda = device.kind == "cuda"
    max_batch = args.max_batch or (16 if cuda else 4)
    ref = torch.from_numpy(
        style.compute_style(model, style.load_clip(STARTER_DIR / "joe-us-reference.flac"))
    )
    sentences = [SENTENCES[i % len(SENTENCES)] for i in range(args.sentences)]
    jobs = [SentenceJob(text.tokenize(text.phonemize(s)), i) for i, s in enumerate(sentences)]
    settings = StyleSettings(diffusion_steps=args.diffusion_steps)

    gpu = torch.cuda.get_device_name(device.name) if cuda else "none"
    print(f"model: {'tiny random-weight' if args.tiny else model_files.root}")
    print(f"device: {device.name} ({gpu}), half precision: {device.half}, load {load_s:.1f} s")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(
        f"{len(jobs)} sentences, {sum(map(len, sentences))} characters, "
        f"{args.diffusion_steps} diffusion steps"
    )
    print(
        f"{'batch':>5}  {'audio s':>8}  {'wall s':>7}  {'RTF':>7}  {'x real time':>11}  "
        f"{'peak GPU MiB':>12}"
    )

    def run(size: int) -> float:
        audio_s = 0.0
        previous = None
        for start in range(0, len(jobs), size):
            outs, previous = synthesize_batch(
                model, jobs[start : start + size], ref, settings, previous
            )
            audio_s += sum(len(o) for o in outs) / 24000
        if cuda:
            torch.cuda.synchronize()
        return audio_s

    run(1)  # warm-up: kernels, allocator, caches
    size = 1
    while size <= max_batch:
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        try:
            audio_s = run(size)
        except torch.cuda.OutOfMemoryError:
            print(f"{size:>5}  out of GPU memory")
            break
        wall = time.perf_counter() - t0
        peak = f"{torch.cuda.max_memory_allocated() / (1 << 20):.0f}" if cuda else "-"
        print(
            f"{size:>5}  {audio_s:8.1f}  {wall:7.2f}  {wall / audio_s:7.4f}  "
            f"{audio_s / wall:11.1f}  {peak:>12}"
        )
        size *= 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
