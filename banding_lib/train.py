"""The one training loop: every preset, CPU or CUDA, one process or torchrun/DDP; resume.

A run is fully described by its resolved config (config.resolve); its results go to results.run_dir(config).
A finished run is never retrained; an interrupted one resumes from its last atomic checkpoint and ends with
the same weights as an uninterrupted one (CPU, same threads). Read top to bottom: the optimizer, the
schedule, the data, evaluation and scores, the checkpoint pair, one step, then `train` and its loop.
Training many runs in parallel worker processes is runner.py's job.
"""
from __future__ import annotations

import math
import os
import platform
import subprocess
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import augment, data, hardware, metrics, networks, results
from .layers import layer_weight

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


def make_optimizer(model, cfg: dict) -> torch.optim.Optimizer:
    groups = param_groups(model, cfg["weight_decay"], cfg["head_weight_decay"])
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], nesterov=True)
    if cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(groups, lr=cfg["lr"])
    raise ValueError(f"unknown optimizer {cfg['optimizer']!r}; use 'sgd' or 'adamw'")


def lr_at(step: int, total: int, cfg: dict) -> float:
    """Linear warm-up, then cosine to 0; a multiplier of the peak LR."""
    if step < cfg["warmup"]:
        return (step + 1) / cfg["warmup"]
    t = (step - cfg["warmup"]) / max(1, total - cfg["warmup"])
    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def schedule(n_train: int, cfg: dict) -> list[tuple[int, int]]:
    """[(epoch, global batch size), ...] for every step; step-limited or epoch-limited; the batch grows to
    late_batch[1] from epoch late_batch[0]."""
    plan, epoch = [], 0
    while True:
        switch, late = cfg["late_batch"]
        b = late if late and epoch >= switch else cfg["batch_size"]
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


def load_data(config: dict, progress: bool = True, device=None):
    """(train source, val source) of the run's photo set (data.InMemory or data.Stream, see data.py); on a CUDA
    `device`, in-memory splits are held there (_resident)."""
    cfg = config["train"]
    if config["data"]["dataset"] == "synthetic":
        n = cfg["synthetic_images"]
        x, y = data.synthetic_images(n + n // 4, cfg["image_size"], seed=1234)
        return _resident(data.InMemory(x[:n], y[:n], 10), device), _resident(data.InMemory(x[n:], y[n:], 10), device)
    kw = dict(root=config["paths"]["data_root"], stream=cfg["stream"], workers=cfg["workers"],
              decode=config.get("machine", {}).get("decode", "cpu"), progress=progress)
    return tuple(_resident(data.open_split(config["data"]["dataset"], split, cfg["image_size"], **kw), device)
                 for split in ("train", "val"))


def _resident(source, device):
    """An in-memory split moved into the memory of a CUDA device when it takes under a quarter of what is free
    there (Imagenette at 128 px: 0.5 GB): each step's batch is then sliced and augmented on the GPU, with no copy
    from the host (benchmarks/gpu_science.py measures img/s both ways). Same batches, same numbers."""
    if device is None or torch.device(device).type != "cuda" or not isinstance(source, data.InMemory):
        return source
    free, _ = torch.cuda.mem_get_info(device)
    return source.to(device) if 4 * source.images.nbytes < free else source


def _interventions(config: dict) -> dict:
    return {k: v for k, v in config["data"].items() if k != "dataset"}


@torch.no_grad()
def evaluate(model, source, config: dict, device, batch_size: int = 256) -> float:
    """Top-1 accuracy on a val source, with the run's data interventions (rotation of every image)."""
    was_training = model.training
    model.eval()
    correct = n = 0
    for images, labels in source.epoch(batch_size, shuffle=False, drop_last=False, device=device):
        x = augment.augment(images.to(device), config["model"]["in_size"], train=False,
                            rotate90=config["data"].get("rotate90", False))
        with autocast_for(device, config["train"]):
            logits = model(x.contiguous(memory_format=_memory_format(config["train"], device)))
        correct += (logits.argmax(1).cpu() == labels).sum().item()
        n += len(labels)
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
            "device": hardware.gpu() or "cpu", "cpu": hardware.cpu(),
            "threads": torch.get_num_threads(), "host": platform.node(), "pid": os.getpid()}


class TrainingDiverged(FloatingPointError):
    """Loss became NaN or Inf; the message names the step and the last good checkpoint."""


def _diverged(what: str, step: int, ckpt: Path, folder: Path) -> TrainingDiverged:
    last = f"{ckpt} (step {results.load_torch(ckpt, 'checkpoint')['step']})" if ckpt.exists() else "none"
    return TrainingDiverged(f"{what} at step {step} of run {folder.name}; last good checkpoint: {last}. "
                            "Lower the LR or check the data.")


# --- the checkpoint pair: what a resumed run needs besides the model and the optimizer ---
PROGRESS = ("step", "history", "elapsed", "images", "init", "running")


def save_checkpoint(path: Path, model, opt, progress: dict) -> None:
    """Atomically: model, optimizer, progress and the CPU RNG (dropout in GoogLeNet and VGG draws from it)."""
    results.save_torch({"model": model.state_dict(), "optimizer": opt.state_dict(), **progress,
                        "rng": torch.get_rng_state()}, path)


def load_checkpoint(path: Path, model, opt) -> dict:
    """Restore what save_checkpoint wrote into model, optimizer and RNG; returns the progress."""
    state = results.load_torch(path, "checkpoint")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    return {k: state[k] for k in PROGRESS}


def autocast_for(device, cfg: dict):
    """bf16 autocast on `device` when the run's precision (config.resolve, hardware.precision) is bf16."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=cfg.get("precision", "fp32") == "bf16")


def _memory_format(cfg: dict, device="cpu"):
    """channels_last where it pays: on CUDA, and on the CPU in bf16 (oneDNN's bf16 convs, 1.4-1.7x here with
    emulated bf16); fp32 on the CPU stays NCHW (within +-6 % either way on the cpu profile's nets)."""
    pays = torch.device(device).type == "cuda" or cfg.get("precision") == "bf16"
    return torch.channels_last if cfg["channels_last"] and pays else torch.contiguous_format


def train_step(net, opt, x, y, lr: float, cfg: dict, autocast, world: int) -> torch.Tensor:
    """One optimizer step at learning rate `lr`; returns the loss, or raises FloatingPointError on every rank
    when it is not finite (before touching the weights)."""
    for group in opt.param_groups:
        group["lr"] = lr
    with autocast:
        logits = net(x)
    loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg["label_smoothing"])  # the loss in fp32
    finite = torch.isfinite(loss.detach()).float()
    if world > 1:  # every rank must stop, or the others wait in the next all-reduce forever
        torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
    if not finite:
        raise FloatingPointError(f"loss is {loss.item()}")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def train(config: dict, root=None, progress: bool = True, stop_after: int | None = None) -> Path:
    """Train the run `config` (from config.resolve) unless its results exist; returns its results folder.
    Under torchrun (WORLD_SIZE > 1) every rank calls this; rank 0 writes. stop_after: stop (as if
    killed) after that many steps, leaving only the checkpoint (for tests)."""
    folder = results.run_dir(config, root)
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    if results.is_finished(folder):
        results.load_run(folder)  # verifies it; a corrupt run raises instead of being silently reused
        return folder
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if config["train"]["threads"]:
        torch.set_num_threads(config["train"]["threads"])
    with results.locked(folder) if rank == 0 else nullcontext():
        if results.is_finished(folder):  # another process finished it while we waited for the lock
            return folder
        return _fit(config, folder, device, rank, world, progress, stop_after)


def _fit(config, folder, device, rank, world, progress, stop_after):
    cfg, seed, cuda = config["train"], config["seed"], device.type == "cuda"
    if rank == 0:
        results.save_json(config, folder / "config.json")
    train_set, val_set = load_data(config, progress and rank == 0, device)
    val_subset = val_set.subset(data.stratified_subset(val_set.labels, cfg["val_subset"]))  # same images, every class alike
    torch.manual_seed(seed)
    model, tracked = networks.build(config, train_set.num_classes)
    done = {"step": 0, "history": [], "elapsed": 0.0, "images": 0, "running": [],
            "init": {name: layer_weight(model, name).clone() for name in tracked}}
    model.to(device, memory_format=_memory_format(cfg, device))
    opt = make_optimizer(model, cfg)
    plan = schedule(len(train_set), cfg)
    first_step = {epoch: i for i, (epoch, _) in reversed(list(enumerate(plan)))}  # epoch -> its first step
    ckpt = folder / "checkpoint.pt"
    if ckpt.exists():
        done = load_checkpoint(ckpt, model, opt)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    net = torch.compile(net) if cfg["compile"] and cuda else net
    autocast = autocast_for(device, cfg)
    bar = tqdm(total=len(plan), initial=done["step"], desc=f"{config['preset']} s{seed}", disable=not progress or rank > 0)
    start = time.perf_counter() - done["elapsed"]
    model.train()
    batches = None
    for step in range(done["step"], len(plan)):
        epoch, batch = plan[step]
        if batches is None or step == first_step[epoch]:  # open an epoch (at its start, or where a resumed run stopped)
            batches = train_set.epoch(batch // world, seed=seed, epoch=epoch, rank=rank, world=world,
                                      skip=step - first_step[epoch], device=device)
        images, labels = next(batches)
        x = _inputs(images, config, step, rank, device)
        lr = cfg["lr"] * batch / cfg["batch_size"] * lr_at(step, len(plan), cfg)
        try:
            loss = train_step(net, opt, x, labels.to(device), lr, cfg, autocast, world)
        except FloatingPointError as err:
            raise _diverged(str(err), step, ckpt, folder) from None
        done["step"], done["images"] = step + 1, done["images"] + len(labels) * world
        done["running"].append(loss.item())
        bar.update(1)
        last = step + 1 == len(plan)
        log, save = (step + 1) % cfg["log_every"] == 0 or last, (step + 1) % cfg["checkpoint_every"] == 0
        if (log or save) and not all(torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point()):
            raise _diverged("the weights hold NaN or Inf", step + 1, ckpt, folder)  # never checkpoint them (BN stats too)
        if rank == 0 and log:
            rec = _record(done, epoch, lr, model, tracked, evaluate(model, val_subset, config, device))
            bar.set_postfix(loss=f"{rec['loss']:.2f}", acc=f"{rec['val_top1_subset']:.2f}")
        if rank == 0 and save and not last:
            save_checkpoint(ckpt, model, opt, {**done, "elapsed": time.perf_counter() - start})
        if stop_after is not None and step + 1 >= stop_after:
            bar.close()
            return folder
    bar.close()
    if rank == 0:
        wall = time.perf_counter() - start  # training only: the final evaluation is not part of img/s
        _write_results(config, folder, model, tracked, done, evaluate(model, val_set, config, device), wall,
                       train_set.num_classes, world)
        ckpt.unlink(missing_ok=True)
    if world > 1:
        torch.distributed.barrier()
    return folder


def _inputs(images, config: dict, step: int, rank: int, device) -> torch.Tensor:
    """A step's augmented batch, drawn from a generator of its own (seed, step, rank): a resumed run draws the
    same crops and flips as an uninterrupted one."""
    cfg = config["train"]
    g = torch.Generator().manual_seed(config["seed"] * 1_000_003 + step * 7919 + rank)
    x = augment.augment(images.to(device, non_blocking=True), config["model"]["in_size"], train=True,
                        crop_scale=tuple(cfg["crop_scale"]), generator=g, **_interventions(config))
    return x.contiguous(memory_format=_memory_format(cfg, device))


def _record(done: dict, epoch: int, lr: float, model, tracked, val_top1_subset: float) -> dict:
    """Append the history record of the step just done (the mean loss since the last one, the subset accuracy,
    the tracked layers' banding) to done["history"]; returns it."""
    done["history"].append({"step": done["step"], "epoch": epoch, "loss": sum(done["running"]) / len(done["running"]),
                            "lr": lr, "images": done["images"], "val_top1_subset": val_top1_subset,
                            "banding": banding(model, tracked, done["init"])})
    done["running"] = []
    return done["history"][-1]


def _write_results(config, folder, model, tracked, done, val_top1, wall, num_classes, world) -> None:
    """weights.pt, model.pt, then metrics.json (last: it marks the run finished and holds the checksums)."""
    init, history = done["init"], done["history"]
    final = {name: layer_weight(model, name).clone() for name in tracked}
    results.save_torch({"final": final, "init": init}, folder / "weights.pt")
    results.save_torch(model.state_dict(), folder / "model.pt")
    results.save_json({
        "format": results.FORMAT, "config": config, "history": history,
        "final": {"val_top1": val_top1, "loss": history[-1]["loss"] if history else None,
                  "banding": {n: {"W": metrics.score(final[n]).as_dict(), "dW": metrics.score(final[n], init[n]).as_dict()}
                              for n in tracked}},
        "steps": done["step"], "images": done["images"], "wall_s": wall,
        "train_flops_per_image": networks.train_flops(config, num_classes), "img_per_s": done["images"] / max(wall, 1e-9),
        "num_classes": num_classes, "tracked": tracked, "world_size": world, "provenance": provenance(),
        "sha256": {name: results.sha256(folder / name) for name in ("weights.pt", "model.pt")},
    }, folder / "metrics.json")
