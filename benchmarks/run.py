"""Benchmarks of banding_lib (run by `make bench`, not part of `make test`).

  throughput  img/s of a training step of the cpu profile's simplified net, fed by the real data pipeline
              (decoded uint8 Imagenette in memory + augment.augment each step) vs random tensors already in
              memory, at 1 and 2 threads; target: the real pipeline keeps >= 90 % of the random-tensor rate
  reduction   NMF of a 512x512x5x5 layer: reduce.nmf (batched, all neurons at once) vs a per-neuron
              scikit-learn NMF loop (init nndsvda, default max_iter; with N threads the loop is shared by N
              worker processes, so both sides use the same cores); target: >= 10x faster at equal error
  book        wall time and peak memory of a command (default `make book`); --scratch: from empty caches into a
              temporary book folder (trains everything); --skip records "not measured"
  train       img/s of the real training step (augmentation included) per net and precision (fp32, bf16
              autocast), achieved GFLOP/s (FLOPs counted by torch) as a share of this CPU's fp32 and bf16
              matmul peaks measured in the same run, the profiler's split of a step, and two 1-thread runs at
              once vs one 2-thread run (the book trains two runs at a time)
  loader      img/s of the streaming DataLoader alone (data.Stream), by worker count and decoder (cpu workers,
              or bytes from the workers and batched decoding on the device)
  cuda        the prepared GPU check: the gpu-small and gpu profiles for --steps steps on real photos through
              the streaming loader (train img/s, loader img/s alone, bf16 model FLOP utilization with FLOPs
              counted by torch.utils.flop_counter, peak GPU memory), then a 1-GPU torchrun; without CUDA: "no
              CUDA device"; --rehearse runs it all on the CPU at a tiny size
  all         throughput, reduction, cuda, and book (only with --book, else "not measured")

Each prints a table headed by the machine (platform, CPU count, torch version, threads) and writes
benchmarks/out/<name>.json. Timings are medians over repeats; the machine may be shared, so the table
records the load average too.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from banding_lib import augment, data, models, networks, reduce, train
from banding_lib.config import PROFILES, resolve

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def report(name: str, rows: list[dict], extra: dict | None = None) -> dict:
    """Print the machine and `rows` as a table; write benchmarks/out/<name>.json."""
    out = {"benchmark": name, "machine": machine(), "rows": rows, **(extra or {})}
    print(f"\n== {name} ==")
    for k, v in out["machine"].items():
        print(f"  {k:16s} {v}")
    if rows:
        cols = list(rows[0])
        width = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
        print("  " + "  ".join(f"{c:>{width[c]}}" for c in cols))
        for r in rows:
            print("  " + "  ".join(f"{_fmt(r.get(c)):>{width[c]}}" for c in cols))
    for k, v in (extra or {}).items():
        print(f"  {k}: {v}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(out, indent=1))
    print(f"  -> {OUT / f'{name}.json'}")
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


# --- train: the real training step per net and precision, against this CPU's own matmul peaks ---

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


def train_bench(args) -> int:
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


# --- throughput: real data pipeline vs tensors in memory ---

def throughput(args) -> int:
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
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        model.train()
        fixed_x = torch.randn(batch, 3, in_size, in_size)  # already normalized, already in memory
        fixed_y = torch.randint(0, len(classes), (batch,))
        g = torch.Generator().manual_seed(0)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

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


# --- reduction: batched torch NMF vs a per-neuron scikit-learn loop ---

def _sklearn_nmf_errors(matrices) -> list[float]:
    """The baseline: scikit-learn's NMF, one neuron at a time (one BLAS thread); relative errors."""
    import warnings

    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")  # ConvergenceWarning: sklearn runs its 200 iterations on most neurons
    errors = []
    with threadpool_limits(1):
        for vn in matrices:
            nmf = NMF(n_components=3, init="nndsvda")  # default max_iter (200), tol, solver "cd"
            Sn = nmf.fit_transform(vn)
            errors.append(float(np.linalg.norm(vn - Sn @ nmf.components_) / np.linalg.norm(vn)))
    return errors


def reduction(args) -> int:
    from joblib import Parallel, delayed

    g = torch.Generator().manual_seed(0)
    w = torch.randn(512, 512, 5, 5, generator=g)  # a Gaussian stand-in for 5b's weight
    v = reduce.sign_split(w)  # (512, 25, 1024)
    n_sub, rows, summary = args.subset, [], {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch_times, full_times = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            S, Fc = reduce.nmf(v, 3, iters=args.iters)
            torch_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reduce.reduce_weight(w, iters=args.iters)
            full_times.append(time.perf_counter() - t0)
        torch_err = reduce.relative_error(v.double(), S.double(), Fc.double())  # (512,)
        sk_times, sk_err = [], []
        subset = v[:n_sub].double().numpy()
        with Parallel(n_jobs=threads) as pool:  # the loop shared over as many worker processes as threads
            pool(delayed(_sklearn_nmf_errors)(subset[:1]) for _ in range(threads))  # start the workers
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                parts = pool(delayed(_sklearn_nmf_errors)(part) for part in np.array_split(subset, threads))
                sk_times.append((time.perf_counter() - t0) * 512 / n_sub)  # extrapolated to all 512 neurons
                sk_err = [e for part in parts for e in part]
        t_torch, t_sk = statistics.median(torch_times), statistics.median(sk_times)
        e_torch, e_torch_sub, e_sk = float(torch_err.mean()), float(torch_err[:n_sub].mean()), statistics.mean(sk_err)
        rows += [
            {"threads": threads, "method": f"reduce.nmf batched (<= {args.iters} sweeps, per-neuron stop)", "neurons_timed": 512,
             "seconds_512": t_torch, "mean_rel_error": e_torch, "error_first_subset": e_torch_sub,
             "speedup": t_sk / t_torch},
            {"threads": threads, "method": "reduce.reduce_weight (nmf + colours)", "neurons_timed": 512,
             "seconds_512": statistics.median(full_times), "mean_rel_error": e_torch, "error_first_subset": e_torch_sub,
             "speedup": t_sk / statistics.median(full_times)},
            {"threads": threads, "method": f"sklearn NMF per neuron (nndsvda), {threads} process(es)", "neurons_timed": n_sub,
             "seconds_512": t_sk, "mean_rel_error": None, "error_first_subset": e_sk, "speedup": 1.0},
        ]
        for sweeps in args.fewer_sweeps:  # how few sweeps already reach sklearn's error
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                S2, F2 = reduce.nmf(v, 3, iters=sweeps)
                times.append(time.perf_counter() - t0)
            err2 = reduce.relative_error(v.double(), S2.double(), F2.double())
            rows.append({"threads": threads, "method": f"reduce.nmf batched (<= {sweeps} sweeps)",
                         "neurons_timed": 512, "seconds_512": statistics.median(times),
                         "mean_rel_error": float(err2.mean()), "error_first_subset": float(err2[:n_sub].mean()),
                         "speedup": t_sk / statistics.median(times)})
        summary[f"{threads}_thread"] = {"speedup_nmf": round(t_sk / t_torch, 1),
                                        "speedup_reduce_weight": round(t_sk / statistics.median(full_times), 1),
                                        "error_ratio_torch_over_sklearn": round(e_torch_sub / e_sk, 4),
                                        "ok": t_sk / t_torch >= 10 and e_torch_sub <= e_sk * 1.01}
    report("reduction", rows, {
        "layer": "(512, 512, 5, 5) Gaussian weight, seed 0; V per neuron (25, 1024)",
        "sklearn_extrapolated": f"sklearn timed on the first {n_sub} neurons, times 512/{n_sub}; errors compared "
                                f"on those {n_sub}",
        "repeats": args.repeats, "target": "nmf >= 10x faster than sklearn at equal error", **summary})
    return 0


# --- book: wall time and peak memory of a command ---

def book(args) -> int:
    if args.skip:
        report("book", [{"command": args.command, "wall_s": "not measured", "peak_rss_mb": "not measured"}])
        return 0
    cmd, env, cache = shlex.split(args.command), dict(os.environ), "warm: the user's result and decode caches"
    if args.scratch:  # empty caches and a temporary book folder: the committed book and the caches stay as they are
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="bench-book-"))
        env |= {"BANDING_RESULTS": str(tmp / "results"), "BANDING_CACHE": str(tmp / "cache")}
        cmd += [f"BOOK={tmp / 'book'}", f"OUT={tmp / 'out'}"]
        cache = f"from scratch: empty caches in {tmp} (kept, to be looked at or deleted)"
    timer = Path("/usr/bin/time")
    t0 = time.perf_counter()
    if timer.exists():  # GNU time -v: peak RSS of the largest process in the tree
        proc = subprocess.run([str(timer), "-v", *cmd], stderr=subprocess.PIPE, text=True, env=env)
        wall = time.perf_counter() - t0
        sys.stderr.write(proc.stderr[-4000:])
        peak_kb = next((int(line.split(":")[1]) for line in proc.stderr.splitlines()
                        if "Maximum resident set size" in line), None)
    else:  # resource's children maximum, the same measure
        import resource

        proc = subprocess.run(cmd, env=env)
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report("book_scratch" if args.scratch else "book",
           [{"command": shlex.join(cmd), "exit": proc.returncode, "wall_s": wall,
             "peak_rss_mb": peak_kb / 1024 if peak_kb else "unknown"}],
           {"caches": cache, "target": "cpu profile: <= 120 s warm, <= 3600 s from scratch, <= 4096 MB",
            "note": "peak RSS of the largest single process (GNU time -v), not the sum over processes"})
    return proc.returncode


# --- loader: the streaming DataLoader alone ---

def _photo_tree(args) -> Path:
    """--data, else the Imagenette of data.data_root() (160 px here): an ImageFolder tree with train/ and val/."""
    if args.data:
        return Path(args.data)
    return data.split_folder(PROFILES["cpu"].dataset, "train", download=False).parent


def _loader_rate(tree: Path, size: int, workers: int, decode: str, batch: int, batches: int, device) -> float:
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


def loader(args) -> int:
    tree = _photo_tree(args)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    for decode in args.decode:
        for workers in args.workers:
            rate = _loader_rate(tree, args.size, workers, decode, args.batch, args.batches, device)
            rows.append({"decode": decode, "workers": workers, "size": args.size, "img_s": rate,
                         "img_s_per_worker": rate / max(1, workers)})
    report("loader", rows, {"data": str(tree / "train"), "batch": args.batch, "batches": args.batches})
    return 0


# --- cuda: the prepared GPU check (gpu-small and gpu profiles through the streaming loader, torchrun) ---

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0}  # dense, no sparsity


def cuda(args) -> int:
    """On a CUDA machine: each GPU profile for --steps steps on real photos through the streaming loader (train
    img/s, loader img/s alone, bf16 model FLOP utilization, peak GPU memory), then the same through a 1-GPU
    torchrun. --rehearse runs every part on the CPU at a tiny size, to check the script before a GPU is lent."""
    from banding_lib import results, study

    if not torch.cuda.is_available() and not args.rehearse:
        print("no CUDA device (use --rehearse to run this check on the CPU at a tiny size)")
        report("cuda", [], {"status": "no CUDA device"})
        return 0
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    import tempfile

    tree, out = _photo_tree(args), Path(args.results or tempfile.mkdtemp(prefix="banding-cuda-check-"))
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
                     "loader_img_s": _loader_rate(tree, cfg["image_size"], cfg["workers"], "cpu", cfg["batch_size"],
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", required=True)
    t = sub.add_parser("throughput", help="img/s, real data pipeline vs tensors in memory (cpu profile)")
    r = sub.add_parser("reduction", help="batched torch NMF vs per-neuron scikit-learn NMF")
    b = sub.add_parser("book", help="wall time and peak memory of `make book` (or --command)")
    c = sub.add_parser("cuda", help="the prepared GPU check: gpu-small and gpu profiles through the streaming "
                       "loader, img/s, loader img/s, MFU, peak memory, 1-GPU torchrun")
    ld = sub.add_parser("loader", help="img/s of the streaming DataLoader alone, by workers and decoder")
    tr = sub.add_parser("train", help="training img/s per net and precision, GFLOP/s vs this CPU's fp32 and bf16 "
                        "matmul peaks, profiler split, two 1-thread runs vs one 2-thread run")
    tr.add_argument("--nets", nargs="+", choices=list(TRAIN_NETS), default=list(TRAIN_NETS))
    tr.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    tr.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    tr.add_argument("--steps", type=int, default=10, help="steps per timed repeat (default 10; a fifth of it for "
                    "bf16 on a CPU without bf16 units, where it is emulated)")
    tr.add_argument("--repeats", type=int, default=3, help="timed repeats, the median is reported (default 3)")
    tr.add_argument("--compile", action="store_true", help="also time torch.compile (inductor) in fp32")
    a = sub.add_parser("all", help="throughput, reduction, cuda; book only with --book")
    for p in (t, a):
        p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads (default 1 2)")
        p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
        p.add_argument("--steps", type=int, default=10, help="training steps per timed repeat (default 10)")
        p.add_argument("--repeats", type=int, default=5, help="timed repeats, the median is reported (default 5)")
    r.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="threads for torch and for sklearn's BLAS (default 1 2)")
    for p in (r, a):
        p.add_argument("--subset", type=int, default=64, help="neurons timed with sklearn (default 64, extrapolated)")
        p.add_argument("--iters", type=int, default=200, help="most sweeps of reduce.nmf (default 200, as reduce.reduce_weight)")
        p.add_argument("--fewer-sweeps", type=int, nargs="*", default=[30, 50],
                       help="also time reduce.nmf with these sweep counts (default 30 50)")
    r.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
    for p in (b, a):
        p.add_argument("--command", default="make book", help="the command to time (default 'make book')")
    b.add_argument("--skip", action="store_true", help="do not run it; record 'not measured'")
    b.add_argument("--scratch", action="store_true",
                   help="from scratch: empty result and decode caches, a temporary book folder (trains everything)")
    a.add_argument("--book", action="store_true", help="also time the book command (slow)")
    for p in (c, ld):
        p.add_argument("--data", default=None, help="an ImageFolder tree with train/ and val/ (default: Imagenette "
                       "under the data root)")
    c.add_argument("--profiles", nargs="+", default=["gpu-small", "gpu"], help="profiles to run (default gpu-small gpu)")
    c.add_argument("--steps", type=int, default=300, help="training steps per profile (default 300)")
    c.add_argument("--workers", type=int, default=0, help="DataLoader workers (default: the profile's)")
    c.add_argument("--results", default=None, help="results root for the check's runs (default: a new temporary folder)")
    c.add_argument("--rehearse", action="store_true", help="run every part on the CPU at a tiny size")
    c.add_argument("--peak-tflops", type=float, default=None, help="the device's dense bf16 peak, TFLOP/s")
    ld.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes (default 1 2)")
    ld.add_argument("--decode", nargs="+", default=["cpu", "device"], help="cpu and/or device (default both)")
    ld.add_argument("--size", type=int, default=256, help="decoded size, px (default 256, the gpu profiles')")
    ld.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    ld.add_argument("--batches", type=int, default=30, help="timed batches (default 30)")
    args = parser.parse_args(argv)
    if args.bench != "all":
        return {"throughput": throughput, "reduction": reduction, "book": book, "cuda": cuda, "loader": loader,
                "train": train_bench}[args.bench](args)
    codes = [throughput(args)]
    codes.append(reduction(argparse.Namespace(threads=args.threads, subset=args.subset, iters=args.iters, repeats=3,
                                              fewer_sweeps=args.fewer_sweeps)))
    codes.append(cuda(argparse.Namespace(data=None, profiles=["gpu-small", "gpu"], steps=300, workers=0,
                                         results=None, rehearse=False, peak_tflops=None)))
    codes.append(book(argparse.Namespace(command=args.command, skip=not args.book, scratch=False)))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
