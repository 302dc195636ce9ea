"""throughput: img/s of a training step of the cpu profile's simplified net, fed by the real data pipeline (decoded
uint8 Imagenette in memory + augment.augment each step) vs random tensors already in memory, at 1 and 2 threads;
target: the real pipeline keeps >= 90 % of the random-tensor rate."""
from __future__ import annotations

import json
import statistics
import time

import torch

from banding_lib import augment, data, networks, train
from banding_lib.config import resolve
from bench_common import report

HELP = "img/s, real data pipeline vs tensors in memory (cpu profile)"

def main(args) -> int:
    root = data.data_root()
    config = resolve("baseline", "cpu", 0, data_root=root)
    cfg, in_size, batch = config["train"], config["model"]["in_size"], args.batch
    train_dir = data.split_folder(config["data"]["dataset"], "train", root)
    images, labels, classes = data.decode_split(train_dir, cfg["image_size"])  # (N, 3, S, S) uint8, cached
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model, _ = networks.build(config, len(classes))
        model.to(memory_format=train._memory_format(cfg)).train()
        opt, autocast = train.make_optimizer(model, cfg), train.autocast_for("cpu", cfg)  # as training makes them
        fixed_x = torch.randn(batch, 3, in_size, in_size)  # already normalized, already in memory
        fixed_y = torch.randint(0, len(classes), (batch,))
        g = torch.Generator().manual_seed(0)

        def step(x, y):  # train.train_step, the loop's own step (the profile's precision, its loss)
            train.train_step(model, opt, x.contiguous(memory_format=train._memory_format(cfg)), y, cfg["lr"], cfg,
                             autocast, 1)

        def real_step():  # what train._fit does per step: index the uint8 set, augment, step
            idx = torch.randint(0, len(images), (batch,), generator=g)
            x = augment.augment(images[idx], in_size, train=True, crop_scale=tuple(cfg["crop_scale"]), generator=g)
            step(x, labels[idx])

        def random_step():
            step(fixed_x, fixed_y)

        for fn in (real_step, random_step):  # warm-up: allocator, first-call costs
            fn()
        rates = {"real": [], "random": []}
        for _ in range(args.repeats):  # interleaved, so a burst of load hits both alike
            for kind, fn in (("real", real_step), ("random", random_step)):
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    fn()
                rates[kind].append(args.steps * batch / (time.perf_counter() - t0))
        real, rand = statistics.median(rates["real"]), statistics.median(rates["random"])
        # the augmentation alone, for the record
        t0 = time.perf_counter()
        for _ in range(args.steps):
            idx = torch.randint(0, len(images), (batch,), generator=g)
            augment.augment(images[idx], in_size, train=True, crop_scale=tuple(cfg["crop_scale"]), generator=g)
        aug = args.steps * batch / (time.perf_counter() - t0)
        rows.append({"threads": threads, "batch": batch, "in_size": in_size, "real_img_s": real,
                     "random_img_s": rand, "ratio": real / rand, "target": ">= 0.90",
                     "ok": real / rand >= 0.9, "augment_only_img_s": aug,
                     "real_all": [round(r, 1) for r in rates["real"]],
                     "random_all": [round(r, 1) for r in rates["random"]]})
    report("throughput", rows, {"model": "baseline @ cpu profile " + json.dumps(config["model"]),
                                "data": str(train_dir), "images_in_memory": len(images),
                                "steps_per_repeat": args.steps, "repeats": args.repeats})
    return 0


def add_arguments(p) -> None:
    """Its options (`all` takes them too)."""
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads (default 1 2)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--steps", type=int, default=10, help="training steps per timed repeat (default 10)")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats, the median is reported (default 5)")
