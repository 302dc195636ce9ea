"""cuda: the prepared GPU check: the gpu-small and gpu profiles for --steps steps on real photos through the
streaming loader (train img/s, loader img/s alone, bf16 model FLOP utilization with FLOPs counted by
torch.utils.flop_counter, peak GPU memory), then a 1-GPU torchrun; without CUDA: "no CUDA device"; --rehearse runs
it all on the CPU at a tiny size."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

from banding_lib import networks, train
from banding_lib.config import resolve
from bench_common import report
from bench_loader import add_data_argument, loader_rate, photo_tree

HELP = ("the prepared GPU check: gpu-small and gpu profiles through the streaming loader, img/s, loader img/s, MFU, "
        "peak memory, 1-GPU torchrun")

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0}  # dense, no sparsity


def main(args) -> int:
    """On a CUDA machine: each GPU profile for --steps steps on real photos through the streaming loader (train
    img/s, loader img/s alone, bf16 model FLOP utilization, peak GPU memory), then the same through a 1-GPU
    torchrun. --rehearse runs every part on the CPU at a tiny size, to check the script before a GPU is lent."""
    from banding_lib import results

    if not torch.cuda.is_available() and not args.rehearse:
        print("no CUDA device (use --rehearse to run this check on the CPU at a tiny size)")
        report("cuda", [], {"status": "no CUDA device"})
        return 0
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    import tempfile

    tree, out = photo_tree(args), Path(args.results or tempfile.mkdtemp(prefix="banding-cuda-check-"))
    tiny = dict(batch_size=8, image_size=40, in_size=32, width=0.0625, workers=1) if args.rehearse else {}
    common = dict(dataset=str(tree.resolve()), stream=True, steps=args.steps, log_every=args.steps,
                  checkpoint_every=10 ** 9, val_subset=64, warmup=min(100, args.steps // 4 or 1), **tiny)
    rows = []
    for profile in args.profiles:
        config = resolve("baseline", profile, 0, **common, **({"workers": args.workers} if args.workers and not tiny else {}))
        cfg = config["train"]
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        folder = train.train(config, out, progress=False)
        run = results.load_run(folder)
        flops = networks.train_flops(config, run.metrics["num_classes"])  # per image, forward + backward
        rate = run.metrics["img_per_s"]
        name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
        peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
        rows.append({"profile": profile, "batch": cfg["batch_size"], "in_size": config["model"]["in_size"],
                     "width": config["model"]["width"], "workers": cfg["workers"], "compile": cfg["compile"],
                     "steps": run.metrics["steps"], "train_img_s": rate,
                     "loader_img_s": loader_rate(tree, cfg["image_size"], cfg["workers"], "cpu", cfg["batch_size"],
                                                 min(args.steps, 50), device),
                     "gflop_per_img": flops / 1e9, "tflop_s": flops * rate / 1e12,
                     "mfu": flops * rate / 1e12 / peak if peak else "unknown",
                     "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2) if device.type == "cuda" else None,
                     "val_top1_at_end": run.metrics["final"]["val_top1"]})
        print(rows[-1], flush=True)
    # the same loop under torchrun with one process (DDP on NCCL on a GPU, gloo on the CPU)
    sets = [a for k, v in {**common, "steps": min(args.steps, 50)}.items()
            for a in ("--set", f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v) if not isinstance(v, str) else v}")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1", "-m", "banding_lib", "train", "baseline",
           "--profile", args.profiles[0], "--results", str(out / "torchrun"), "--quiet", *sets]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    torchrun = {"command": shlex.join(cmd), "returncode": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
                "tail": (proc.stdout + proc.stderr)[-1500:]}
    if proc.returncode == 0:
        run = results.load_run(proc.stdout.strip().splitlines()[-1])
        torchrun |= {"world_size": run.metrics["world_size"], "img_s": round(run.metrics["img_per_s"], 1)}
    report("cuda", rows, {"device": str(device), "rehearsal": args.rehearse, "data": str(tree), "torchrun": torchrun})
    return 0 if proc.returncode == 0 else 1


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--profiles", nargs="+", default=["gpu-small", "gpu"], help="profiles to run (default gpu-small gpu)")
    p.add_argument("--steps", type=int, default=300, help="training steps per profile (default 300)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers (default: the profile's)")
    p.add_argument("--results", default=None, help="results root for the check's runs (default: a new temporary folder)")
    p.add_argument("--rehearse", action="store_true", help="run every part on the CPU at a tiny size")
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak, TFLOP/s")
