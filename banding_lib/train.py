"""The one training loop: every preset, CPU or CUDA, one process or torchrun/DDP; profiles; resume.

A run is fully described by its resolved config (preset + profile + seed + overrides); its results
go to results.run_dir(config). A finished run is never retrained; an interrupted one resumes from
its last atomic checkpoint and ends with the same weights as an uninterrupted one (CPU, same threads).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from . import data, metrics, models, results
from .layers import layer_weight


@dataclass(frozen=True)
class Profile:
    """How big and how long. One frozen instance per profile in PROFILES."""

    name: str
    dataset: str  # photo set name or path (see data.split_folder); "synthetic" = built-in scenes, no files
    image_size: int  # px, images decoded (or streamed) at this size
    in_size: int  # px, network input: random-resized crops of the decoded image
    simplified: dict  # scale of the simplified net: width, pools, init_scale (see models.simplified_net)
    torchvision: dict  # scale of the torchvision architectures: width
    batch_size: int  # global batch (split across DDP ranks)
    steps: int  # optimizer steps; 0 = run `epochs` epochs
    epochs: int = 0  # used when steps == 0
    late_batch: tuple = (0, 0)  # (epoch, batch): switch to a bigger batch from that epoch, LR scaled along
    lr: float = 0.05  # peak LR for batch_size (SGD)
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) or "adamw"
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv (and other) weights; none on batch norm and biases
    head_weight_decay: float = -1.0  # on the classifier's weights (HEAD_PREFIXES); < 0: weight_decay
    warmup: int = 100  # steps of linear warm-up, then cosine decay to 0
    label_smoothing: float = 0.0
    log_every: int = 50  # steps between records of loss, banding and subset accuracy
    checkpoint_every: int = 100  # steps between atomic checkpoints
    val_subset: int = 500  # val images (class-stratified, fixed) for the accuracy in intermediate records (all at the end)
    stream: bool = False  # True: DataLoader from disk (ImageNet); False: decode once, augment from memory
    workers: int = 0  # DataLoader workers when streaming
    threads: int = 0  # CPU threads per process; 0 = torch's default
    amp: bool = True  # bf16 autocast (CUDA only)
    channels_last: bool = True  # (CUDA only)
    compile: bool = False  # torch.compile the model
    synthetic_images: int = 512  # number of synthetic training images (dataset "synthetic")
    crop_scale: tuple = (0.25, 1.0)  # random-resized-crop area share


PROFILES = {
    # seconds: tests and CI, built-in synthetic scenes, no photos, no network
    "smoke": Profile("smoke", "synthetic", 32, 32, dict(width=0.125, pools=3, init_scale=0.1),
                     dict(width=0.0625), batch_size=16, steps=12, lr=0.05, warmup=2, log_every=4,
                     checkpoint_every=4, val_subset=64, threads=1, synthetic_images=256),
    # the default: Imagenette photos on a 2-core CPU, two runs in parallel, about two minutes a run. Chosen by
    # the scale study (banding_lib.study, book page 06_scale) on seed 0, confirmed on seeds 1 and 2: the
    # article's twelve layers at width 3/16; 56 px input and 3 pools end on a 7x7 map as the article's 224 px
    # and 5 pools; weight decay 2e-2 (at 5e-4 5b scored 0.54 / 0.36, at 1e-2 0.69 / 0.25, at 2e-2 0.92 /
    # 0.04). The torchvision nets drop their stem's first max pool so that 56 px still ends on a 4x4 (VGG19:
    # 3x3) map, with their own recipes (architectures.CPU_RECIPE).
    "cpu": Profile("cpu", "imagenette2-160", 64, 56, dict(width=0.1875, pools=3, init_scale=0.1),
                   dict(width=0.125, stem_pool=False), batch_size=64, steps=600, lr=0.05, warmup=60,
                   weight_decay=2e-2, log_every=50, checkpoint_every=100, val_subset=500, threads=1),
    # the article's scale: ImageNet at 224 px, 90 epochs, batch 512 then 1024 from epoch 30, 8 GPUs
    "gpu": Profile("gpu", "imagenet", 256, 224, dict(width=1.0, pools=5, init_scale=1.0), dict(width=1.0),
                   batch_size=512, steps=0, epochs=90, late_batch=(30, 1024), lr=0.2, warmup=2500,
                   label_smoothing=0.0, log_every=500, checkpoint_every=2000, val_subset=10000,
                   stream=True, workers=12, compile=True),
}


# The runs the book shows: every simplified-net preset and the nine architecture runs, one seed each;
# three seeds for the runs whose comparison carries the article's claim.
SEEDS = {"baseline": (0, 1, 2), "rotated": (0, 1, 2), "flatten": (0, 1, 2), "x_pool": (0, 1, 2)}


def book_runs() -> list[tuple[str, int]]:
    """(preset, seed) of every run the book's notebooks load."""
    return [(p, s) for p in all_presets() for s in SEEDS.get(p, (0,))]


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def all_presets() -> dict:
    """Simplified-net presets and torchvision-architecture presets, by name."""
    from .architectures import ARCH_PRESETS

    return {**models.PRESETS, **ARCH_PRESETS}


def _check_overrides(overrides: dict, prof: Profile, fields: set, arch: str) -> None:
    """ValueError for a key that is neither a Profile field nor a model keyword, TypeError for a Profile
    field of the wrong type: both would otherwise fail deep inside training."""
    import inspect

    from .architectures import torchvision_net

    builder = models.simplified_net if arch == "simplified" else torchvision_net
    model_keys = set(inspect.signature(builder).parameters) - {"arch", "num_classes"}
    unknown = sorted(set(overrides) - fields - model_keys)
    if unknown:
        raise ValueError(f"unknown override {', '.join(map(repr, unknown))}; valid: Profile fields "
                         f"{', '.join(sorted(fields))} and model keywords {', '.join(sorted(model_keys))}")
    for key, value in overrides.items():
        want = type(getattr(prof, key)) if key in fields else None
        ok = want is None or isinstance(value, want) or (want is float and isinstance(value, int)) or (
            want is tuple and isinstance(value, list))
        if not ok:
            raise TypeError(f"override {key}={value!r} is a {type(value).__name__}; expected {want.__name__}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list_of(check):
    return lambda v: isinstance(v, (list, tuple)) and all(check(x) for x in v)


def _is_str(v) -> bool:
    return isinstance(v, str)


# Notebook parameters (papermill) -> (type check, the expected type in words). Extend when a notebook adds one.
NOTEBOOK_PARAMS = {
    "profile": (_is_str, "str, one of " + ", ".join(PROFILES)),
    "seed": (_is_int, "int"),
    "seeds": (_list_of(_is_int), "list of int, e.g. [0, 1, 2]"),
    "runs": (_list_of(_is_str), "list of str (preset names)"),
    "presets": (_list_of(_is_str), "list of str (preset names)"),
    "preset": (_is_str, "str (a preset name)"),
    "jobs": (lambda v: _is_int(v) and v >= 1, "int >= 1"),
    "steps": (lambda v: _is_int(v) and v >= 0, "int >= 0"),
    "results_root": (lambda v: v is None or _is_str(v), "str or None"),
    "data_root": (lambda v: v is None or _is_str(v), "str or None"),
}


def validate_params(**params) -> dict:
    """Check a notebook's papermill parameters (call it in the cell after the `parameters` cell).
    TypeError naming the parameter, its type and the expected type when one is of the wrong type (papermill's
    -p passes "[0, 1]" as text: lists go with -y 'seeds: [0, 1]'); ValueError for an unknown profile or
    preset; TypeError for a name not in NOTEBOOK_PARAMS. Returns the parameters unchanged."""
    for name, value in params.items():
        if name not in NOTEBOOK_PARAMS:
            raise TypeError(f"unknown notebook parameter {name!r}; known: {', '.join(NOTEBOOK_PARAMS)} "
                            "(add it to banding_lib.train.NOTEBOOK_PARAMS)")
        check, expected = NOTEBOOK_PARAMS[name]
        if not check(value):
            hint = " (papermill -p passes text; give lists with -y, e.g. -y 'seeds: [0, 1]')" if _is_str(value) else ""
            raise TypeError(f"notebook parameter {name!r} is {type(value).__name__} {value!r}; "
                            f"expected {expected}{hint}")
    if "profile" in params:
        get_profile(params["profile"])
    for name in ("runs", "presets", "preset"):
        for preset in ([params[name]] if name == "preset" and name in params else params.get(name, [])):
            if preset not in all_presets():
                raise ValueError(f"notebook parameter {name!r}: unknown preset {preset!r}; "
                                 f"valid presets: {', '.join(all_presets())}")
    return params


def resolve(preset: str, profile: str = "cpu", seed: int = 0, data_root=None, **overrides) -> dict:
    """The resolved config of a run: everything that decides its outcome, JSON-able.
    overrides: Profile fields (steps=..., lr=...) or model scale keys (init_scale=..., width=...)."""
    presets = all_presets()
    if preset not in presets:
        import difflib

        close = difflib.get_close_matches(preset, presets, n=3)
        raise ValueError(f"unknown preset {preset!r}" + (f" (did you mean {' or '.join(close)}?)" if close else "")
                         + f"; valid presets: {', '.join(presets)}")
    prof = get_profile(profile)
    spec = presets[preset]
    arch = spec.get("arch", "simplified")
    fields = {f.name for f in dataclasses.fields(Profile)} - {"name", "simplified", "torchvision"}
    _check_overrides(overrides, prof, fields, arch)
    scale = dict(prof.simplified if arch == "simplified" else prof.torchvision)
    prof_over = {"lr": round(prof.lr * spec.get("lr_scale", 1.0), 12)}  # an explicit lr= override wins
    recipe = spec.get("recipe", {}).get(profile, {})  # a preset's own settings on this profile
    prof_over.update({k: v for k, v in recipe.items() if k in fields})
    scale.update({k: v for k, v in recipe.items() if k not in fields})
    prof_over.update({k: v for k, v in overrides.items() if k in fields})
    scale.update({k: v for k, v in overrides.items() if k not in fields})
    prof = dataclasses.replace(prof, **prof_over)
    if prof.dataset != "synthetic":
        data.split_folder(prof.dataset, "train", data_root)  # fail early, with the message that says what to do
    return {
        "preset": preset, "profile": profile, "seed": int(seed), "arch": arch,
        "model": {**spec["model"], **scale, "in_size": prof.in_size},
        "data": {"dataset": prof.dataset, **spec["data"]},
        "train": {k: v for k, v in dataclasses.asdict(prof).items() if k not in ("name", "simplified", "torchvision")},
        "format": results.FORMAT,
        # where things are on this machine: not part of the run's identity (results.config_hash skips it)
        "paths": {"data_root": str(data.data_root(data_root).resolve())},
    }


def build_model(config: dict, num_classes: int):
    """(model, tracked layer names) for a resolved config."""
    if config["arch"] == "simplified":
        model = models.simplified_net(num_classes, **config["model"])
        names = models.conv_layer_names(model)
        return model, [n for n in models.LAST_LAYERS if n in names] + ["block0.a"]
    from .architectures import ARTICLE_LAYERS, TYPICAL_LAYERS, torchvision_net

    arch = config["arch"]
    model = torchvision_net(arch, num_classes, **config["model"])
    tracked = list(ARTICLE_LAYERS[arch]) + ([TYPICAL_LAYERS[arch]] if arch in TYPICAL_LAYERS else [])
    return model, tracked


HEAD_PREFIXES = ("head.", "fc.", "classifier.")  # the classifier: simplified net, GoogLeNet/ResNet, VGG/AlexNet


def param_groups(model, weight_decay: float, head_weight_decay: float = -1.0) -> list[dict]:
    """Optimizer parameter groups: body weights decay by weight_decay, the classifier's (module paths
    starting with HEAD_PREFIXES) by head_weight_decay (< 0: the same), batch norm and biases not at all.
    Why apart: on a conv followed by batch norm, decay only sets the effective learning rate (the scale
    is normalized away); on a fully connected classifier it is an L2 penalty, and a strong one pulls a
    no-GAP head towards the same weights at every position, i.e. back to GAP."""
    head_decay = weight_decay if head_weight_decay < 0 else head_weight_decay
    body, head, flat = [], [], []
    for name, p in model.named_parameters():
        (flat if p.ndim <= 1 else head if name.startswith(HEAD_PREFIXES) else body).append(p)
    return [{"params": body, "weight_decay": weight_decay}, {"params": head, "weight_decay": head_decay},
            {"params": flat, "weight_decay": 0.0}]


class TrainingDiverged(FloatingPointError):
    """Loss became NaN or Inf; the message names the step and the last good checkpoint."""


def _diverged(what: str, step: int, ckpt: Path, folder: Path) -> TrainingDiverged:
    last = f"{ckpt} (step {results.load_torch(ckpt, 'checkpoint')['step']})" if ckpt.exists() else "none"
    return TrainingDiverged(f"{what} at step {step} of run {folder.name}; last good checkpoint: {last}. "
                            "Lower the LR or check the data.")


def _load_data(config: dict, train_cfg: dict):
    """(train images, train labels, val images, val labels, num_classes); uint8 tensors in memory."""
    if config["data"]["dataset"] == "synthetic":
        n = train_cfg["synthetic_images"]
        x, y = data.synthetic_images(n + n // 4, train_cfg["image_size"], seed=1234)
        return x[:n], y[:n], x[n:], y[n:], 10
    root = config["paths"]["data_root"]
    xt, yt, classes = data.decode_split(data.split_folder(config["data"]["dataset"], "train", root), train_cfg["image_size"])
    xv, yv, _ = data.decode_split(data.split_folder(config["data"]["dataset"], "val", root), train_cfg["image_size"])
    return xt, yt, xv, yv, len(classes)


def _lr_at(step: int, total: int, cfg: dict) -> float:
    """Linear warm-up, then cosine to 0; a multiplier of the peak LR."""
    if step < cfg["warmup"]:
        return (step + 1) / cfg["warmup"]
    t = (step - cfg["warmup"]) / max(1, total - cfg["warmup"])
    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def _batch_for_epoch(epoch: int, cfg: dict) -> int:
    switch, late = cfg["late_batch"]
    return late if late and epoch >= switch else cfg["batch_size"]


def _schedule(n_train: int, cfg: dict) -> list[tuple[int, int]]:
    """[(epoch, batch size), ...] for every step; step-limited or epoch-limited."""
    plan, epoch = [], 0
    while True:
        b = _batch_for_epoch(epoch, cfg)
        per_epoch = n_train // b
        if per_epoch == 0:  # else a step-limited plan would loop forever
            raise ValueError(f"{n_train} training images are fewer than one batch of {b}: "
                             "use more images or a smaller batch_size")
        for _ in range(per_epoch):
            plan.append((epoch, b))
            if cfg["steps"] and len(plan) == cfg["steps"]:
                return plan
        epoch += 1
        if not cfg["steps"] and epoch >= cfg["epochs"]:
            return plan


@torch.no_grad()
def evaluate(model, images, labels, config, device, batch_size=256, limit=None) -> float:
    """Top-1 accuracy on (the first `limit` of) a uint8 val set, with the run's data interventions."""
    was_training = model.training
    model.eval()
    n = len(images) if limit is None else min(limit, len(images))
    correct = 0
    for i in range(0, n, batch_size):
        x = data.augment(images[i:i + batch_size].to(device), config["model"]["in_size"], train=False,
                         rotate90=config["data"].get("rotate90", False))
        correct += (model(x).argmax(1).cpu() == labels[i:i + batch_size]).sum().item()
    model.train(was_training)
    return correct / max(1, n)


def banding(model, tracked, init) -> dict:
    """{layer: {"W": Score dict, "dW": Score dict}} on raw weights and on W - W_init."""
    out = {}
    for name in tracked:
        w = layer_weight(model, name)
        out[name] = {"W": metrics.score(w, n_boot=500).as_dict(), "dW": metrics.score(w, init[name], n_boot=500).as_dict()}
    return out


def provenance() -> dict:
    try:
        code = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        code = "unknown"
    return {"code_version": code, "torch": torch.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            "threads": torch.get_num_threads(), "host": platform.node(), "pid": os.getpid()}


def train(config: dict, root=None, progress: bool = True, stop_after: int | None = None) -> Path:
    """Train the run `config` (from `resolve`) unless its results exist; returns its results folder.
    Under torchrun (WORLD_SIZE > 1) every rank calls this; rank 0 writes. stop_after: stop (as if
    killed) after that many steps, leaving only the checkpoint (for tests)."""
    folder = results.run_dir(config, root)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if results.is_finished(folder):
        results.load_run(folder)  # verifies it; a corrupt run raises instead of being silently reused
        return folder
    ddp = world > 1
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if ddp and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    cfg = config["train"]
    if cfg["threads"]:
        torch.set_num_threads(cfg["threads"])
    with (results.locked(folder) if rank == 0 else _nullcontext()):
        if results.is_finished(folder):  # another process finished it while we waited for the lock
            return folder
        return _train_locked(config, folder, device, rank, world, progress, stop_after)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _train_locked(config, folder, device, rank, world, progress, stop_after):
    from tqdm.auto import tqdm

    cfg, seed = config["train"], config["seed"]
    results.save_json(config, folder / "config.json") if rank == 0 else None
    xt, yt, xv, yv, num_classes = _load_data(config, cfg)
    sub = data.stratified_subset(yv, cfg["val_subset"])  # the same images at every record: every class alike
    xs, ys = xv[sub], yv[sub]
    torch.manual_seed(seed)
    model, tracked = build_model(config, num_classes)
    init = {name: layer_weight(model, name).clone() for name in tracked}
    model.to(device)
    if device.type == "cuda" and cfg["channels_last"]:
        model.to(memory_format=torch.channels_last)
    groups = param_groups(model, cfg["weight_decay"], cfg["head_weight_decay"])
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], nesterov=True)
    elif cfg["optimizer"] == "adamw":
        opt = torch.optim.AdamW(groups, lr=cfg["lr"])
    else:
        raise ValueError(f"unknown optimizer {cfg['optimizer']!r}; use 'sgd' or 'adamw'")
    plan = _schedule(len(xt), cfg)
    step, history, elapsed, images_seen, running = 0, [], 0.0, 0, []
    ckpt = folder / "checkpoint.pt"
    if ckpt.exists():
        state = results.load_torch(ckpt, "checkpoint")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, history, elapsed, images_seen = state["step"], state["history"], state["elapsed"], state["images"]
        init, running = state["init"], state.get("running", [])
        if "rng" in state:  # dropout (GoogLeNet, VGG) draws from it: resume must continue the stream
            torch.set_rng_state(state["rng"])
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if cfg["compile"]:
        net = torch.compile(net)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and cfg["amp"])
    bar = tqdm(total=len(plan), initial=step, desc=f"{config['preset']} s{seed}", disable=not progress or rank > 0)
    start = time.perf_counter() - elapsed
    model.train()
    while step < len(plan):
        epoch, batch = plan[step]
        skip = sum(1 for e, _ in plan[:step] if e == epoch)  # steps of this epoch already done (resume)
        for xb, yb in data.batches(xt, yt, batch // world, shuffle=True, seed=seed, epoch=epoch, rank=rank,
                                   world=world, drop_last=True):
            if skip:
                skip -= 1
                continue
            g = torch.Generator().manual_seed(seed * 1_000_003 + step * 7919 + rank)
            x = data.augment(xb.to(device, non_blocking=True), config["model"]["in_size"], train=True,
                             crop_scale=tuple(cfg["crop_scale"]), generator=g,
                             **{k: v for k, v in config["data"].items() if k != "dataset"})
            if device.type == "cuda" and cfg["channels_last"]:
                x = x.contiguous(memory_format=torch.channels_last)
            for group in opt.param_groups:
                group["lr"] = cfg["lr"] * batch / cfg["batch_size"] * _lr_at(step, len(plan), cfg)
            with autocast:
                loss = F.cross_entropy(net(x), yb.to(device), label_smoothing=cfg["label_smoothing"])
            finite = torch.isfinite(loss.detach()).float()
            if world > 1:  # every rank must stop, or the others wait in the next all-reduce forever
                torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
            if not finite:
                raise _diverged(f"loss is {loss.item()}", step, ckpt, folder)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            images_seen += batch
            running.append(loss.item())
            bar.update(1)
            record = step % cfg["log_every"] == 0 or step % cfg["checkpoint_every"] == 0 or step == len(plan)
            if record and not all(torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point()):
                raise _diverged("the weights hold NaN or Inf", step, ckpt, folder)  # never checkpoint them (BN stats too)
            if rank == 0 and (step % cfg["log_every"] == 0 or step == len(plan)):
                history.append({"step": step, "epoch": epoch, "loss": sum(running) / len(running),
                                "lr": opt.param_groups[0]["lr"], "images": images_seen,
                                "val_top1_subset": evaluate(model, xs, ys, config, device),
                                "banding": banding(model, tracked, init)})
                running = []
                bar.set_postfix(loss=f"{history[-1]['loss']:.2f}", acc=f"{history[-1]['val_top1_subset']:.2f}")
            if rank == 0 and (step % cfg["checkpoint_every"] == 0) and step < len(plan):
                results.save_torch({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                                    "history": history, "elapsed": time.perf_counter() - start,
                                    "images": images_seen, "init": init, "running": running,
                                    "rng": torch.get_rng_state()}, ckpt)
            if stop_after is not None and step >= stop_after:
                bar.close()
                return folder
            if step >= len(plan) or plan[step][0] != epoch:
                break
    bar.close()
    wall = time.perf_counter() - start
    if rank == 0:
        final = {name: layer_weight(model, name).clone() for name in tracked}
        results.save_torch({"final": final, "init": init}, folder / "weights.pt")
        results.save_torch(model.state_dict(), folder / "model.pt")
        summary = {
            "format": results.FORMAT, "config": config, "history": history,
            "final": {"val_top1": evaluate(model, xv, yv, config, device), "loss": history[-1]["loss"] if history else None,
                      "banding": {n: {"W": metrics.score(final[n]).as_dict(), "dW": metrics.score(final[n], init[n]).as_dict()}
                                  for n in tracked}},
            "steps": step, "images": images_seen, "wall_s": wall, "img_per_s": images_seen / max(wall, 1e-9),
            "num_classes": num_classes, "tracked": tracked, "world_size": world,
            "provenance": provenance(),
            "sha256": {name: results.sha256(folder / name) for name in ("weights.pt", "model.pt")},
        }
        results.save_json(summary, folder / "metrics.json")
        ckpt.unlink(missing_ok=True)
    if world > 1:
        torch.distributed.barrier()
    return folder


def _train_worker(config: dict, root) -> tuple[str, float]:
    """One run in a worker process (see train_many): (results folder, seconds)."""
    t0 = time.perf_counter()
    folder = train(config, root, progress=False)
    return str(folder), time.perf_counter() - t0


def train_many(configs: list[dict], root=None, jobs: int = 2) -> int:
    """Train several resolved configs, `jobs` at a time, each in a fresh worker process that receives the
    config itself (one thread each on a CPU, per the profile); runs whose results exist are skipped.
    Returns 0 when all succeeded, 1 when any failed (each failure is printed with its traceback)."""
    import concurrent.futures as cf
    import multiprocessing
    import traceback

    todo = [c for c in configs if not results.is_finished(results.run_dir(c, root))]
    if not todo:
        return 0
    for c in {json.dumps(c["data"] | c["paths"] | {"size": c["train"]["image_size"]}, sort_keys=True): c for c in todo}.values():
        if c["data"]["dataset"] != "synthetic":  # decode each photo set once, before the workers start
            _load_data(c, c["train"])
    code = 0
    with cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = {pool.submit(_train_worker, c, root): c for c in todo}
        for future in cf.as_completed(futures):
            c = futures[future]
            name = f"{c['preset']} s{c['seed']} ({results.run_dir(c, root).name})"
            try:
                _, seconds = future.result()
                print(f"{name}: done in {seconds:.0f} s", flush=True)
            except Exception as err:  # noqa: BLE001 - report every failed run, then fail as a whole
                code = 1
                print(f"{name}: FAILED", flush=True)
                print("".join(traceback.format_exception(err))[-3000:], file=sys.stderr)
    return code


def ensure(presets, profile: str = "cpu", seeds=(0,), root=None, data_root=None, jobs: int = 2, **overrides) -> dict:
    """Load the runs {(preset, seed): Run}, training (jobs at a time) only those the results lack."""
    configs = {(p, s): resolve(p, profile, s, data_root=data_root, **overrides) for p in presets for s in seeds}
    missing = [c for c in configs.values() if not results.is_finished(results.run_dir(c, root))]
    if missing:
        code = train_many(missing, root, jobs=jobs)
        if code:
            raise RuntimeError(f"training failed for some of {[c['preset'] for c in missing]}; see the log above")
    return {key: results.load_run(results.run_dir(c, root)) for key, c in configs.items()}
