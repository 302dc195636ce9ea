"""train: img/s of the real training step (augmentation included) per net and precision (fp32, bf16 autocast),
achieved GFLOP/s (FLOPs counted by torch) as a share of this CPU's fp32 and bf16 matmul peaks measured in the same
run, the profiler's split of a step, and two 1-thread runs at once vs one 2-thread run (the book trains two runs at
a time)."""
from __future__ import annotations

import statistics
import time

import torch

from banding_lib import augment, data, models, networks, train
from banding_lib.config import resolve
from bench_common import report

HELP = ("training img/s per net and precision, GFLOP/s vs this CPU's fp32 and bf16 matmul peaks, profiler split, "
        "two 1-thread runs vs one 2-thread run")

# name -> overrides of the cpu profile: the profile itself (the short net), the article's twelve layers, a wider net
TRAIN_NETS = {"cpu profile": {}, "twelve layers": {"blocks": list(models.BLOCKS)}, "width 0.375": {"width": 0.375}}
OP_KINDS = {"conv": ("conv",), "batch norm": ("batch_norm",), "L2 pool": ("avg_pool", "sqrt"),
            "relu": ("relu", "threshold"), "augmentation": ("grid_sampler", "affine_grid", "upsample", "rot90")}


def _stepper(config: dict, batch: int, compile: bool = False):
    """A closure doing what train._fit does per step (index the uint8 set, augment, train.train_step)."""
    root = data.data_root()
    cfg, in_size = config["train"], config["model"]["in_size"]
    images, labels, classes = data.decode_split(data.split_folder(config["data"]["dataset"], "train", root),
                                                cfg["image_size"])
    torch.manual_seed(0)
    model, _ = networks.build(config, len(classes))
    model.to(memory_format=train._memory_format(cfg)).train()
    opt = train.make_optimizer(model, cfg)
    autocast, g = train.autocast_for("cpu", cfg), torch.Generator().manual_seed(0)
    net = torch.compile(model) if compile else model

    def step():
        idx = torch.randint(0, len(images), (batch,), generator=g)
        with torch.profiler.record_function("augmentation"):
            x = augment.augment(images[idx], in_size, train=True, crop_scale=tuple(cfg["crop_scale"]), generator=g)
            x = x.contiguous(memory_format=train._memory_format(cfg))
        train.train_step(net, opt, x, labels[idx], cfg["lr"], cfg, autocast, 1)
    return step


def _rate(config: dict, batch: int, steps: int, repeats: int, threads: int = 1, compile: bool = False) -> float:
    """Median img/s of the training step over `repeats` timings of `steps` steps (after 2 warm-up steps)."""
    torch.set_num_threads(threads)
    step = _stepper(config, batch, compile)
    step(), step()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps * batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def _split(config: dict, batch: int, steps: int) -> dict:
    """Share of the step's CPU time per kind of op (torch.profiler, self time), the optimizer apart."""
    step = _stepper(config, batch)
    step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shares = dict.fromkeys([*OP_KINDS, "optimizer", "other"], 0.0)
    for e in events:
        kind = next((k for k, keys in OP_KINDS.items() if any(key in e.key for key in keys)), None)
        kind = kind or ("optimizer" if "_foreach" in e.key or "Optimizer" in e.key else "other")
        shares[kind] += e.self_cpu_time_total / total
    return {k: round(v, 3) for k, v in shares.items()}


def main(args) -> int:
    from banding_lib import hardware

    torch.set_num_threads(1)
    peaks = {"fp32": hardware.matmul_peak(torch.float32), "bf16": hardware.matmul_peak(torch.bfloat16)}
    rows, splits = [], {}
    for net in args.nets:
        for prec in args.precisions:
            config = resolve("baseline", "cpu", 0, precision=prec, **TRAIN_NETS[net])
            steps = args.steps if prec == "fp32" or hardware.cpu_has_bf16() else max(1, args.steps // 5)
            rate = _rate(config, args.batch, steps, args.repeats)
            flops = networks.train_flops(config)
            gflops = flops * rate / 1e9
            rows.append({"net": net, "precision": prec, "batch": args.batch, "img_s": round(rate, 1),
                         "mflop_per_img": round(flops / 1e6, 1), "gflop_s": round(gflops, 1),
                         "share_fp32_peak": round(gflops / peaks["fp32"], 3),
                         "share_bf16_peak": round(gflops / peaks["bf16"], 3)})
            print(rows[-1], flush=True)
            if net == args.nets[0]:
                splits[prec] = _split(config, args.batch, steps)
    speedup = {net: round(next(r["img_s"] for r in rows if r["net"] == net and r["precision"] == "bf16") /
                          next(r["img_s"] for r in rows if r["net"] == net and r["precision"] == "fp32"), 2)
               for net in args.nets if set(args.precisions) >= {"fp32", "bf16"}}
    fp32 = resolve("baseline", "cpu", 0, precision="fp32", **TRAIN_NETS[args.nets[0]])
    tried = {"batch 128 (img/s)": round(_rate(fp32, 128, max(1, args.steps // 2), args.repeats), 1)}
    if args.compile:  # torch.compile (inductor) on the CPU: the first steps pay the compile time
        t0 = time.perf_counter()
        tried["torch.compile (img/s)"] = round(_rate(fp32, args.batch, args.steps, args.repeats, compile=True), 1)
        tried["torch.compile, whole measurement incl. compile (s)"] = round(time.perf_counter() - t0, 1)
    threads = _threads(fp32, args)
    report("train", rows, {"cpu": hardware.cpu(), "matmul_peak_gflop_s_1_thread": {k: round(v, 1) for k, v in peaks.items()},
                           "bf16_over_fp32_img_s": speedup, "profiler_split_of_" + args.nets[0]: splits,
                           "threads_" + args.nets[0]: threads, "tried_fp32_" + args.nets[0]: tried})
    return 0


def _threads(config: dict, args) -> dict:
    """Book runs go two at a time: aggregate img/s of two 1-thread processes at once vs one 2-thread process."""
    import concurrent.futures as cf
    import multiprocessing

    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        two = sum(pool.map(_rate, [config] * 2, [args.batch] * 2, [args.steps] * 2, [args.repeats] * 2))
    one = _rate(config, args.batch, args.steps, args.repeats, threads=2)
    return {"two_runs_of_1_thread_img_s": round(two, 1), "one_run_of_2_threads_img_s": round(one, 1),
            "ratio": round(two / one, 2)}


def add_arguments(p) -> None:
    p.add_argument("--nets", nargs="+", choices=list(TRAIN_NETS), default=list(TRAIN_NETS))
    p.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--steps", type=int, default=10, help="steps per timed repeat (default 10; a fifth of it for "
                   "bf16 on a CPU without bf16 units, where it is emulated)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats, the median is reported (default 3)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (inductor) in fp32")
