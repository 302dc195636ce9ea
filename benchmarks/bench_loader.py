"""loader: img/s of the streaming DataLoader alone (data.Stream), by worker count and decoder (cpu workers, or
bytes from the workers and batched decoding on the device)."""
from __future__ import annotations

import time
from pathlib import Path

import torch

from banding_lib import data
from banding_lib.config import PROFILES
from bench_common import report

HELP = "img/s of the streaming DataLoader alone, by workers and decoder"

def photo_tree(args) -> Path:
    """--data, else the Imagenette of data.data_root() (160 px here): an ImageFolder tree with train/ and val/."""
    if args.data:
        return Path(args.data)
    return data.split_folder(PROFILES["cpu"].dataset, "train", download=False).parent


def loader_rate(tree: Path, size: int, workers: int, decode: str, batch: int, batches: int, device) -> float:
    """img/s of data.Stream over tree/train (decoded, fitted to `size`, on `device` for decode='device')."""
    stream = data.Stream(tree / "train", size, workers, decode)
    it = stream.epoch(batch, seed=0, device=device)
    next(it)  # workers started, first batches in flight
    n, t0 = 0, time.perf_counter()
    for _, (images, labels) in zip(range(batches), it):
        n += len(labels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def main(args) -> int:
    tree = photo_tree(args)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    for decode in args.decode:
        for workers in args.workers:
            rate = loader_rate(tree, args.size, workers, decode, args.batch, args.batches, device)
            rows.append({"decode": decode, "workers": workers, "size": args.size, "img_s": rate,
                         "img_s_per_worker": rate / max(1, workers)})
    report("loader", rows, {"data": str(tree / "train"), "batch": args.batch, "batches": args.batches})
    return 0


def add_data_argument(p) -> None:
    """--data, the photo tree (the cuda check reads it too)."""
    p.add_argument("--data", default=None, help="an ImageFolder tree with train/ and val/ (default: Imagenette "
                   "under the data root)")


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes (default 1 2)")
    p.add_argument("--decode", nargs="+", default=["cpu", "device"], help="cpu and/or device (default both)")
    p.add_argument("--size", type=int, default=256, help="decoded size, px (default 256, the gpu profiles')")
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--batches", type=int, default=30, help="timed batches (default 30)")
