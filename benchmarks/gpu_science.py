"""gpu_science: the article's experiment at the article's scale, on one GPU, in one command of at most six minutes.

    python -m banding_lib pack                                         (once: the photos that travel, pack/)
    python benchmarks/gpu_science.py --out DIR --pack pack             (on a machine with one CUDA GPU)
    python benchmarks/gpu_science.py --out DIR --pack PACK --rehearse  (the same code on the CPU, at a tiny size)

Trains RUNS (the baseline on two seeds, rotated, flatten, x_pool) with the article's simplified network at full
width (twelve conv layers, 224-px crops, a 7x7 final map), bf16 and channels_last on CUDA, eager (no torch.compile:
see COMPILE), through the book's one training loop (train.train) with the gpu-small profile and SETTINGS as its
overrides. The pack's photos are 128 px: the 224-px crops are upsampled from them. On CUDA they are decoded once
into GPU memory and cropped, flipped, rotated and resized there. Epochs come from a measured warm-up, the same for
every run, and the plan prints before training. Each run is scored as the scores step scores it (run_scores.run_rows: W, dW
and NMF) and written into --out the moment it finishes, so a command cut off still leaves what finished:

    scores.csv              the schema of book/scores.csv, one row per (run, layer, kind)
    curves.csv              each run's accuracy (and loss) at every record
    nmf-<run>-s<seed>.png   5a's and 5b's NMF pictures, one file per run
    gpu_science.json        the plan, img/s (with the photos on the GPU and on the host), model FLOP utilization,
                            peak memory, epochs, wall time, provenance (GPU, driver, torch, the code's digest)

It imports torch, torchvision, numpy, PIL, scipy and the standard library only (no pandas, no altair): the GPU's
Python has none of this repository's pinned packages, and runs it from the checkout as it is.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's banding_lib, installed or not (the GPU's Python has it not)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from banding_lib import config, data, hardware, networks, pack, reduce, results, run_scores, train  # noqa: E402
from banding_lib.layers import layer_weight  # noqa: E402

PROFILE = "gpu-small"  # the article's net at full width, 5 pools, 224-px input; its recipe (LR 0.1 per 256, decay 5e-4)
SETTINGS = {  # overrides of the profile (config.resolve); the plan adds steps, warmup and log_every
    "image_size": 128,  # px: the pack's photos decoded at their own size; the crops are upsampled to in_size
    "in_size": 224,  # px: the article's input, a 7x7 map after 5b
    "checkpoint_every": 10 ** 9,  # none: a run lasts a minute or two, and one cut off is rerun, not resumed
    "val_subset": 1000,  # the whole validation pack at each record of the accuracy curve
    "workers": 0,  # in memory: no DataLoader
}
# on the CPU: a tiny net on tiny photos, in fp32 (bf16 is emulated on most CPUs, and its first steps are slow)
REHEARSAL = {"width": 0.0625, "image_size": 32, "in_size": 64,  # 64 px: a 2x2 final map (at 1x1 the heads are one)
              "batch_size": 8, "val_subset": 40, "threads": 1,
             "precision": "fp32"}
RUNS = (("baseline", 0), ("flatten", 0), ("rotated", 0), ("x_pool", 0), ("baseline", 1))  # what the contrasts need first
BUDGET_S = 330  # s, the whole command: six minutes on the GPU, less a margin (the lease's 15 min include its start)
REHEARSAL_BUDGET_S = 40  # s
MAX_EPOCHS = 30  # the article's net learns Imagenette in 20-30 epochs; more buys no claim
REHEARSAL_EPOCHS = 2
RECORDS = 10  # records a run at most (accuracy curve points): each evaluates the validation pack, scores the layers
RUN_OVERHEAD_S = 10.0  # s a run costs besides its steps and records: loading the decoded pack, the final evaluation,
#                        writing the weights, scoring (NMF ~1 s a layer) and writing --out; each run's is measured
GRACE_S = 30  # s past the budget a run may end (six minutes in all); one that would end later is skipped
MARGIN = 0.9  # of the time left, planned: the heads differ a little in cost, and a GPU's clock varies
LEARNED_AT_SCALE = 0.70  # val. top-1 for a run at this scale to count as learned (the bar; chance is 0.10)
COMPILE = ("off: torch.compile costs tens of seconds a head (four heads) out of a six-minute budget, and the "
           "warm-up would have to compile to measure it; eager it is")
WARM_STEPS = (5, 20)  # steps untimed (cuDNN picks its kernels), then timed, for each of the two ways the photos lie
REHEARSAL_WARM_STEPS = (2, 4)
CURVE_COLUMNS = ("preset", "seed", "step", "epoch", "images", "loss", "lr", "val_top1_subset")
DRAWN = ("block5.a", "block5.b")  # the layers of figures 5-8: their NMF pictures go into --out


def configs(pack_dir: Path, rehearse: bool, **planned) -> list[dict]:
    """The resolved config of every run in RUNS: the profile, SETTINGS (REHEARSAL on top), the pack, the plan."""
    over = {**SETTINGS, **(REHEARSAL if rehearse else {}), "dataset": str(pack_dir.resolve()), **planned}
    return [config.resolve(preset, PROFILE, seed, **over) for preset, seed in RUNS]


def book_rows(run: results.Run) -> list[dict]:
    """run_scores.run_rows as the scores step writes them for a run the book shows (book True, no study point), `learned`
    also asking LEARNED_AT_SCALE."""
    return [{**row, "book": True, "study": "", "learned": row["learned"] and row["val_top1"] >= LEARNED_AT_SCALE}
            for row in run_scores.run_rows(run)]


def _cell(v) -> str:
    """As the scores step writes a cell (pandas, float_format %.6f): NaN empty."""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6f}"
    return str(v)


def write_csv(path: Path, rows: list[dict], names) -> None:
    def write(tmp):
        with open(tmp, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(names)
            out.writerows([_cell(row.get(k, "")) for k in names] for row in rows)
    results.atomic_write(path, write)


def picture_grid(red: reduce.Reduction, columns: int = 32, pixel: int = 6, gap: int = 2) -> np.ndarray:
    """A layer's NMF pictures (N, kh, kw, 3) as one uint8 image (rows, cols, 3) on white, in similarity order."""
    pictures = red.pictures.numpy()[red.order]
    n, kh, kw, _ = pictures.shape
    columns = min(columns, n)
    cell_h, cell_w = kh * pixel + gap, kw * pixel + gap
    grid = np.full((math.ceil(n / columns) * cell_h + gap, columns * cell_w + gap, 3), 255, np.uint8)
    for i, pic in enumerate(pictures):
        y, x = gap + (i // columns) * cell_h, gap + (i % columns) * cell_w
        grid[y:y + kh * pixel, x:x + kw * pixel] = (pic.repeat(pixel, 0).repeat(pixel, 1) * 255).round()
    return grid


def write_pictures(path: Path, run: results.Run) -> None:
    """5a's and 5b's NMF pictures, one above the other, each under its score: one PNG."""
    parts = []
    for layer in DRAWN:
        red = reduce.reduction(run.weights[layer])
        caption = Image.new("RGB", (1, 18), "white")
        parts += [(f"{run.name} seed {run.config['seed']}, {layer}: NMF row {red.score.row:.2f} / col "
                   f"{red.score.col:.2f}, val. {run.metrics['final']['val_top1']:.3f}", caption),
                  (None, Image.fromarray(picture_grid(red)))]
    width = max(max(img.width for _, img in parts), 420)
    sheet = Image.new("RGB", (width, sum(img.height for _, img in parts)), "white")
    y, draw = 0, ImageDraw.Draw(sheet)
    for text, img in parts:
        if text is None:
            sheet.paste(img, (0, y))
        else:
            draw.text((4, y + 3), text, fill="black")
        y += img.height
    results.atomic_write(path, lambda tmp: sheet.save(tmp, "PNG"))


def _batches(source, batch: int, device):
    """Training batches of a source, epoch after epoch, for as long as asked."""
    for epoch in range(10 ** 6):
        yield from source.epoch(batch, seed=0, epoch=epoch, device=device)


def _time_steps(model, opt, source, cfg_all: dict, device, counts=WARM_STEPS) -> float:
    """Seconds a training step takes (the loop's own: slice, augment, train.train_step), after untimed ones."""
    cfg, batches = cfg_all["train"], _batches(source, cfg_all["train"]["batch_size"], device)
    autocast = train.autocast_for(device, cfg)
    for step in range(sum(counts)):
        if step == counts[0]:
            _sync(device)
            t0 = time.perf_counter()
        images, labels = next(batches)
        x = train._inputs(images, cfg_all, step, 0, device)
        # a tenth of the peak LR: the throwaway warm-up net has no LR warm-up, and its steps cost the same
        train.train_step(model, opt, x, labels.to(device), cfg["lr"] * 0.1, cfg, autocast, 1)
    _sync(device)
    return (time.perf_counter() - t0) / counts[1]


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def warm_up(cfg_all: dict, device, counts: tuple[int, int] = WARM_STEPS) -> dict:
    """Measured before planning, on the baseline's net and the pack: a training step's seconds with the photos in
    the device's memory (as train.train holds them on CUDA) and on the host (copied each step), and a record's
    (evaluating the validation pack, scoring the tracked layers), all as the loop does them."""
    if cfg_all["train"]["threads"]:  # as train.train: a tiny net on many threads spin-waits (the rehearsal's)
        torch.set_num_threads(cfg_all["train"]["threads"])
    t0 = time.perf_counter()
    train_set, val_set = train.load_data(cfg_all, progress=False, device=device)
    load_s = time.perf_counter() - t0
    torch.manual_seed(0)
    model, tracked = networks.build(cfg_all, train_set.num_classes)
    init = {name: layer_weight(model, name).clone() for name in tracked}
    model.to(device, memory_format=train._memory_format(cfg_all["train"], device)).train()
    opt = train.make_optimizer(model, cfg_all["train"])
    host = data.InMemory(train_set.images.cpu(), train_set.labels, train_set.num_classes)
    step_s = {"device": _time_steps(model, opt, train_set, cfg_all, device, counts),
              "host": _time_steps(model, opt, host, cfg_all, device, counts)}
    t0 = time.perf_counter()
    train.evaluate(model, val_set.subset(torch.arange(min(len(val_set), cfg_all["train"]["val_subset"]))),
                   cfg_all, device)
    train.banding(model, tracked, init)
    record_s = time.perf_counter() - t0
    batch = cfg_all["train"]["batch_size"]
    return {"load_s": load_s, "classes": train_set.num_classes, "n_train": len(train_set), "n_val": len(val_set),
            "step_s": step_s["device"], "record_s": record_s, "img_per_s": {k: batch / v for k, v in step_s.items()},
            "photos_on": "device" if train_set.images.device.type == "cuda" else "host",
            "untimed_steps": counts[0], "timed_steps": counts[1]}


def plan(warm: dict, batch: int, runs: int, seconds: float, max_epochs: int) -> dict:
    """Epochs for every run alike (a contrast needs one recipe): the most that fit `seconds` (times MARGIN) for
    `runs` runs at the warm-up's step and record times, RUN_OVERHEAD_S each, at most max_epochs (at least 1)."""
    per_epoch = warm["n_train"] // batch
    if per_epoch == 0:
        raise ValueError(f"{warm['n_train']} training photos are fewer than one batch of {batch}")
    epoch_s = per_epoch * warm["step_s"]
    fit = (seconds * MARGIN / runs - RUN_OVERHEAD_S - RECORDS * warm["record_s"]) / epoch_s
    epochs = max(1, min(max_epochs, int(fit)))
    every = math.ceil(epochs / RECORDS)  # epochs between records
    run_s = epochs * epoch_s + math.ceil(epochs / every) * warm["record_s"] + RUN_OVERHEAD_S
    return {"epochs": epochs, "steps": epochs * per_epoch, "steps_per_epoch": per_epoch, "log_every": every * per_epoch,
            "warmup": min(2 * per_epoch, epochs * per_epoch // 2),  # LR warm-up: two epochs (the profile's 300 steps
            #                                                          would be half of a short run)
            "expected_run_s": run_s, "expected_runs_s": runs * run_s, "seconds_for_runs": seconds,
            "how": (f"epochs = min({max_epochs}, floor(({seconds:.0f} s left x {MARGIN} / {runs} runs - "
                    f"{RUN_OVERHEAD_S:.0f} s a run - {RECORDS} records x {warm['record_s']:.2f} s) / "
                    f"({per_epoch} steps x {warm['step_s']:.4f} s a step)))")}


def provenance(manifest: dict) -> dict:
    """Where and with what it ran: train.provenance, the GPU's driver, CUDA and cuDNN, a digest of the package's and
    this script's sources (the checkout may travel without .git), and the pack's."""
    sources = sorted((ROOT / "banding_lib").glob("*.py")) + [Path(__file__).resolve()]
    code = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        driver = "unknown"
    cuda = torch.cuda.is_available()
    return {**train.provenance(), "driver": driver if cuda else None, "cuda": torch.version.cuda if cuda else None,
            "cudnn": torch.backends.cudnn.version() if cuda else None, "torchvision": _version("torchvision"),
            "sources_sha256": code, "pack": {k: manifest[k] for k in ("source", "size", "quality", "counts", "bytes")},
            "pack_sha256": hashlib.sha256(json.dumps(manifest["sha256"], sort_keys=True).encode()).hexdigest()[:16]}


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def peak_tflops(device) -> dict:
    """The bf16 ceilings MFU is read against: this GPU's measured matmul rate, and the datasheet's dense rate."""
    if torch.device(device).type != "cuda":
        return {"measured_bf16_matmul": None, "datasheet_bf16": None}
    from bench_cuda import PEAK_BF16_TFLOPS

    name = torch.cuda.get_device_name(0)
    return {"measured_bf16_matmul": hardware.matmul_peak(torch.bfloat16, n=8192, seconds=1.0, device="cuda") / 1e3,
            "datasheet_bf16": next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)}


def run_summary(run: results.Run, wall_s: float, flops: float, peaks: dict, device) -> dict:
    """What the JSON says of one finished run."""
    m, rate = run.metrics, run.metrics["img_per_s"]
    nmf = {layer: {"row": reduce.reduction(run.weights[layer]).score.row,
                   "col": reduce.reduction(run.weights[layer]).score.col} for layer in DRAWN}
    return {"preset": run.name, "seed": run.config["seed"], "folder": run.path.name,
            "val_top1": m["final"]["val_top1"], "learned": m["final"]["val_top1"] >= LEARNED_AT_SCALE,
            "steps": m["steps"], "train_s": m["wall_s"], "wall_s": wall_s, "overhead_s": wall_s - m["wall_s"],
            "img_per_s": rate, "tflop_per_s": flops * rate / 1e12,
            "mfu": {k: flops * rate / 1e12 / v for k, v in peaks.items() if v},
            "peak_memory_gib": (torch.cuda.max_memory_allocated() / 2 ** 30
                                if torch.device(device).type == "cuda" else None),
            "nmf": nmf}


def curve_rows(run: results.Run) -> list[dict]:
    return [{"preset": run.name, "seed": run.config["seed"], **{k: rec[k] for k in CURVE_COLUMNS[2:]}}
            for rec in run.metrics["history"]]


def train_all(todo: list[dict], out: Path, root: Path, report: dict, clock: tuple[float, float], device) -> None:
    """Train, score and write each run in turn, --out rewritten after each; a run the time left cannot hold (before
    `clock` = (started, deadline), at the longer of the plan's seconds a run and the last run's) is skipped and
    named in the report."""
    rows, curves, names = [], [], run_scores.COLUMNS
    flops, peaks = report["flops_per_image"], report["peak_tflops"]
    for cfg_all in todo:
        name = f"{cfg_all['preset']}-s{cfg_all['seed']}"
        expect = max([report["plan"]["expected_run_s"]] + [r["wall_s"] for r in report["runs"][-1:]])
        if time.perf_counter() + expect > clock[1]:
            report["skipped"].append(name)
            continue
        t0 = time.perf_counter()
        if torch.device(device).type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        run = results.load_run(train.train(cfg_all, root, progress=False))
        rows += book_rows(run)
        curves += curve_rows(run)
        write_csv(out / "scores.csv", rows, names)
        write_csv(out / "curves.csv", curves, CURVE_COLUMNS)
        write_pictures(out / f"nmf-{name}.png", run)
        report["runs"].append(run_summary(run, time.perf_counter() - t0, flops, peaks, device))
        _finish(report, clock[0])
        results.save_json(report, out / "gpu_science.json")
        print(f"{name}: val. {run.metrics['final']['val_top1']:.3f}, {run.metrics['img_per_s']:.0f} img/s, "
              f"{report['runs'][-1]['wall_s']:.0f} s -> {out}", flush=True)


def _finish(report: dict, started: float) -> None:
    """The report's totals over the runs done so far: img/s, MFU, peak memory, wall time."""
    runs = report["runs"]
    report["wall_s"] = time.perf_counter() - started
    report["img_per_s"] = sum(r["img_per_s"] for r in runs) / len(runs)
    report["mfu"] = {k: sum(r["mfu"][k] for r in runs) / len(runs) for k in runs[0]["mfu"]}
    memory = [r["peak_memory_gib"] for r in runs if r["peak_memory_gib"] is not None]
    report["peak_memory_gib"] = max(memory) if memory else None


def main(argv=None) -> int:
    """Verify the pack, warm up, plan, print the plan, then train, score and write each run; 0 when every run
    finished, 1 when some were skipped for time, 2 without CUDA (and not rehearsing)."""
    args = parse(argv)
    started = time.perf_counter()
    device = torch.device("cpu" if args.rehearse else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU, or rehearse it here with --rehearse", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True  # fixed shapes: cuDNN's fastest kernels, picked in the warm-up
    out, manifest = Path(args.out), pack.verify(args.pack)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(args.results or tempfile.mkdtemp(prefix="gpu-science-"))
    os.environ.setdefault("BANDING_RESULTS", str(root))  # the NMF cache (reduce.reduction) beside the runs
    probe = configs(Path(args.pack), args.rehearse)[0]
    warm = warm_up(probe, device, REHEARSAL_WARM_STEPS if args.rehearse else WARM_STEPS)
    report = {"what": __doc__.split("\n")[0], "rehearsal": args.rehearse, "command": [sys.executable, *sys.argv],
              "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "peak_tflops": peak_tflops(device), "warm_up": warm,
              "compile": COMPILE,
              "flops_per_image": networks.train_flops(probe, warm["classes"]), "runs": [], "skipped": [],
              "provenance": provenance(manifest), "learned_at": LEARNED_AT_SCALE}
    budget = REHEARSAL_BUDGET_S if args.rehearse else args.budget
    seconds = budget - (time.perf_counter() - started)
    report["plan"] = plan(warm, probe["train"]["batch_size"], len(RUNS), seconds,
                          REHEARSAL_EPOCHS if args.rehearse else MAX_EPOCHS)
    print_plan(report, probe)
    todo = configs(Path(args.pack), args.rehearse, **{k: report["plan"][k] for k in ("steps", "warmup", "log_every")})
    report["settings"] = {"profile": PROFILE, "model": todo[0]["model"], "train": todo[0]["train"],
                          "epochs": report["plan"]["epochs"], "input": f"{todo[0]['model']['in_size']}-px crops "
                          f"resampled from the pack's {manifest['size']}-px photos (upsampled where larger)"}
    results.save_json(report, out / "gpu_science.json")  # the plan and the warm-up's rates come back whatever follows
    try:
        train_all(todo, out, root, report, (started, started + budget + GRACE_S), device)
    except Exception as err:  # a run that fails still leaves the report, naming it, beside the runs before it
        report["error"] = f"{type(err).__name__}: {err}"
        raise
    finally:
        report["wall_s"] = time.perf_counter() - started
        results.save_json(report, out / "gpu_science.json")
    print(f"done in {report['wall_s']:.0f} s: {len(report['runs'])} runs, skipped {report['skipped'] or 'none'}")
    return 0 if report["runs"] and not report["skipped"] else 1


def print_plan(report: dict, probe: dict) -> None:
    """The plan, before training: epochs, steps, the measured rates and the expected wall time from the FLOP count."""
    p, w, flops = report["plan"], report["warm_up"], report["flops_per_image"]
    images = p["steps"] * probe["train"]["batch_size"] * len(RUNS)
    rate = w["img_per_s"]["device"]
    print(f"warm-up: {w['img_per_s']['device']:.0f} img/s with the photos on the {w['photos_on']}, "
          f"{w['img_per_s']['host']:.0f} img/s from the host; a record {w['record_s']:.2f} s; "
          f"{w['n_train']} training photos loaded in {w['load_s']:.1f} s")
    print(f"plan: {len(RUNS)} runs x {p['epochs']} epochs ({p['steps']} steps of {probe['train']['batch_size']}), "
          f"{flops / 1e9:.1f} GFLOP a training image: {images * flops / 1e15:.2f} PFLOP, at the measured "
          f"{rate * flops / 1e12:.1f} TFLOP/s {images / rate:.0f} s of steps; {p['expected_runs_s']:.0f} s in all "
          f"with records and overheads ({p['how']})", flush=True)
    if p["expected_runs_s"] > p["seconds_for_runs"]:  # even one epoch a run does not fit: say so before, not after
        print(f"plan: over the {p['seconds_for_runs']:.0f} s left; the runs that would end after the budget and "
              f"{GRACE_S} s are skipped, the first ones kept", flush=True)


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the (at most 8) result files")
    parser.add_argument("--pack", default=str(pack.PACK), help="the photo pack (python -m banding_lib pack; default pack/)")
    parser.add_argument("--results", default=None, help="results root for the runs (default: a new temporary folder)")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help=f"seconds for the whole command (default {BUDGET_S})")
    parser.add_argument("--rehearse", action="store_true", help="the same code on the CPU at a tiny size")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
