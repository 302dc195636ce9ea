"""The position probe: how much of a photo's absolute position a trained network's pooled features still tell.

Each probe photo (a fixed class-stratified subset of the validation split) is shrunk to `scale` x the run's input
size and placed at one of `positions` offsets along one axis of a neutral canvas at the input size, centred on
the other axis. The canvas is 0 after normalization, i.e. the data set's mean colour: the same fill
`augment.augment` gives pixels outside a photo, so the nets have seen it in training. Axis "y" moves the photo
down the canvas (NCHW dim 2), axis "x" across it (dim 3). A rotated run (data intervention rotate90) sees its
photos rotated, as in training, *before* they are placed: the axis is always the canvas's.

Three readouts per placement (FEATURE_SETS): "head", the vector the classifier (head.fc) receives, i.e. 5b
after the head's pooling (for flatten or x-pooling heads this still holds positions); "gap5a" and "gap5b",
the global average of 5a's and 5b's output maps, so heads that do not pool are also read after a GAP.

A linear probe (standardized features, multinomial logistic regression) is fitted on the placements of one
half of the photos and scored on the other half, so no photo is in both halves; the interval is a bootstrap
over test photos (a photo's placements move together). Chance is 1 / positions. Two nulls: the same network
at its random init (`initial_model`, BN statistics recalibrated, see there) and a network trained with
vertical flips (the "vflip" run, probed like any other).

Results are cached under <results root>/_probes/<key>.pt (the key: the run's folder name, its model.pt
checksum, PROBE_VERSION and the probe's parameters), so the book pays once.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import augment, mechanism, networks, results

PROBE_VERSION = 1  # bump with any change to what the probe computes for given parameters
# The probe's defaults. The task must be hard enough that no net is at the ceiling: at the cpu profile (56 px
# canvas, 7x7 last map) a half-size photo at 5 positions (7 px apart) was told apart 0.93-0.98 of the time by
# the short net at init and after 1600 steps alike; at 3/4 size (3.5 px apart, under half a cell of the last
# map) 0.64-0.76 at init and 0.62-0.85 trained (300 photos, width 0.375 study run's checkpoint).
POSITIONS = 5  # placements per axis; chance is 1 / POSITIONS
SCALE = 0.75  # side of the placed photo, as a share of the canvas side
N_PHOTOS = 500  # validation photos (class-stratified), half to fit the probe, half to score it
FEATURE_SETS = ("head", "gap5a", "gap5b")
AXES = ("y", "x")
# The modules read, by path: the classifier's input (a pre-hook on head.fc), and the outputs of 5a and 5b.
CLASSIFIER, LAYER_5A, LAYER_5B = "head.fc", "block5.a", "block5.b"


# ------------------------------------------------------------------------------------------------ photos
_PHOTOS: dict[str, torch.Tensor] = {}


def probe_photos(config: dict, n_photos: int = N_PHOTOS) -> torch.Tensor:
    """uint8 (N, 3, H, W): the photos of mechanism.val_photos (a fixed class-stratified subset of the run's
    validation split, at the decoded size), remembered in memory, so probing many runs of one profile loads the
    photos once."""
    cfg = config["train"]
    key = json.dumps([config["data"]["dataset"], cfg["image_size"], cfg.get("synthetic_images"),
                      config["paths"]["data_root"], n_photos])
    if key not in _PHOTOS:
        _PHOTOS[key] = mechanism.val_photos(config, n_photos)[0]
    return _PHOTOS[key]


def offsets(in_size: int, size: int, positions: int) -> list[int]:
    """Top (or left) pixel of each of `positions` evenly spaced placements of a `size` px photo on an
    `in_size` px canvas, from one edge to the other."""
    if not 2 <= positions <= in_size - size + 1:
        raise ValueError(f"positions must be in 2..{in_size - size + 1} for a {size} px photo on {in_size} px, "
                         f"got {positions}")
    return [round(i * (in_size - size) / (positions - 1)) for i in range(positions)]


def place(images: torch.Tensor, in_size: int, positions: int, axis: str, *, scale: float = SCALE,
          rotate90: bool = False) -> torch.Tensor:
    """uint8 photos (N, 3, H, W) -> normalized canvases (N, P, 3, in_size, in_size).

    Each photo is shrunk to s = round(scale * in_size) px (augment.augment's eval transform, antialiased; turned
    90 degrees counter-clockwise first when rotate90, as the run saw it), then pasted at offsets(in_size, s, P)
    along `axis` ("y": rows, dim -2; "x": columns, dim -1) and centred on the other axis. Elsewhere the
    canvas is 0 (the mean colour after normalization)."""
    if axis not in AXES:
        raise ValueError(f"axis must be 'y' or 'x', got {axis!r}")
    size = round(scale * in_size)
    if not 1 <= size < in_size:
        raise ValueError(f"scale={scale} gives a {size} px photo on a {in_size} px canvas; need 1 <= size < in_size")
    small = augment.augment(images, size, train=False, rotate90=rotate90)  # (N, 3, s, s)
    canvas = torch.zeros(len(images), positions, 3, in_size, in_size)
    centre = (in_size - size) // 2
    for p, start in enumerate(offsets(in_size, size, positions)):
        top, left = (start, centre) if axis == "y" else (centre, start)
        canvas[:, p, :, top:top + size, left:left + size] = small
    return canvas


# ---------------------------------------------------------------------------------------------- features
def initial_model(run):
    """The run's network at its random init, in eval mode: rebuilt as train._fit builds it
    (torch.manual_seed(seed); networks.build), without touching the caller's random state. Its batch-norm
    statistics are still the defaults (mean 0, var 1), which no trained net has: probe() recalibrates them on
    the training half's photos (recalibrate_bn), so the null differs from the trained net in its weights only."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.config["seed"])
        model, _ = networks.build(run.config, run.metrics["num_classes"])
    return model.eval()


@torch.no_grad()
def recalibrate_bn(model, images: torch.Tensor, config: dict, batch_size: int = 256):
    """Set every BatchNorm's running statistics to the plain average over `images` (uint8, the eval
    transform), as an untrained net's default statistics would not normalize anything. Returns the model in
    eval mode."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches
    model.train()
    for i in range(0, len(images), batch_size):
        model(augment.augment(images[i:i + batch_size], config["model"]["in_size"], train=False,
                              rotate90=config["data"].get("rotate90", False)))
    for bn in bns:
        bn.momentum = 0.1
    return model.eval()


@torch.no_grad()
def features(model, x: torch.Tensor, batch_size: int = 256) -> dict:
    """{feature set: float32 array (B, D)} of normalized inputs x (B, 3, H, W): see FEATURE_SETS. The model
    runs in eval mode, without grad; its modules are read by forward hooks, which are removed after."""
    got = {name: [] for name in FEATURE_SETS}
    hooks = [model.get_submodule(CLASSIFIER).register_forward_pre_hook(
                 lambda m, args: got["head"].append(args[0].flatten(1).float())),
             model.get_submodule(LAYER_5A).register_forward_hook(
                 lambda m, args, out: got["gap5a"].append(out.float().mean(dim=(2, 3)))),
             model.get_submodule(LAYER_5B).register_forward_hook(
                 lambda m, args, out: got["gap5b"].append(out.float().mean(dim=(2, 3))))]
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(x), batch_size):
            model(x[i:i + batch_size])
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return {name: torch.cat(parts).numpy() for name, parts in got.items()}


def position_features(run, positions: int = POSITIONS, axis: str = "y", *, images: torch.Tensor | None = None,
                      n_photos: int = N_PHOTOS, scale: float = SCALE, model=None, batch_size: int = 256) -> dict:
    """{feature set: float32 array (N, P, D)}: features[f][i, p] is feature set f (FEATURE_SETS) of photo i
    placed at position p (0 = top for axis "y", left for "x"; see place) on the run's input canvas.

    images: uint8 photos (N, 3, H, W), default probe_photos(run.config, n_photos). model: default run.model()
    (the trained net). Respects the run's rotate90. Runs on the CPU in fp32, on the caller's thread count."""
    config = run.config
    if config.get("arch", "simplified") != "simplified":
        raise ValueError(f"the probe reads the simplified net's layers; run {config['preset']!r} is a {config['arch']}")
    images = probe_photos(config, n_photos) if images is None else images
    model = run.model() if model is None else model
    canvases = place(images, config["model"]["in_size"], positions, axis, scale=scale,
                     rotate90=config["data"].get("rotate90", False))  # (N, P, 3, S, S)
    n = len(images)
    flat = features(model, canvases.flatten(0, 1), batch_size)  # (N*P, D) each
    return {name: f.reshape(n, positions, -1) for name, f in flat.items()}


# ------------------------------------------------------------------------------------------------- probe
def split_photos(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) photo indices: a seeded permutation of range(n) cut in half. Disjoint, covering all."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def fit_probe(feats: np.ndarray, train_idx, test_idx, *, C: float = 1.0, n_boot: int = 1000, seed: int = 0) -> dict:
    """Linear probe of position from features (N photos, P positions, D): standardize, multinomial logistic
    regression fitted on the placements of the photos `train_idx`, scored on those of `test_idx`.

    Returns accuracy, lo, hi (the 95 % percentile interval of a bootstrap over test photos) and chance (1/P)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    n, p, d = feats.shape
    train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
    if np.intersect1d(train_idx, test_idx).size:
        raise ValueError("train and test photos overlap: split by photo (split_photos)")
    y = np.tile(np.arange(p), n).reshape(n, p)  # (N, P): the position label of each placement
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    with threadpool_limits(1):
        clf.fit(feats[train_idx].reshape(-1, d), y[train_idx].ravel())
        correct = (clf.predict(feats[test_idx].reshape(-1, d)) == y[test_idx].ravel()).reshape(len(test_idx), p)
    per_photo = correct.mean(axis=1)  # (N_test,)
    rng = np.random.default_rng(seed)
    boot = per_photo[rng.integers(0, len(per_photo), (n_boot, len(per_photo)))].mean(axis=1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"accuracy": float(per_photo.mean()), "lo": float(lo), "hi": float(hi), "chance": 1.0 / p}


def _cache_path(run, params: dict, root) -> Path:
    ident = {"run": Path(run.path).name, "model": run.metrics.get("sha256", {}).get("model.pt"),
             "version": PROBE_VERSION, **params}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:24]
    base = results.results_root(root) if root is not None else Path(run.path).parent
    return base / "_probes" / f"{key}.pt"


def probe(run, *, positions: int = POSITIONS, n_photos: int = N_PHOTOS, scale: float = SCALE, weights: str = "trained",
          C: float = 1.0, n_boot: int = 1000, seed: int = 0, cache: bool = True, root=None,
          images: torch.Tensor | None = None) -> pd.DataFrame:
    """Position probe of one run: a frame with one row per axis ("y" vertical, "x" horizontal) and feature set
    (FEATURE_SETS), columns run (folder name), preset, seed, weights, axis, features, accuracy, lo, hi (95 %
    bootstrap over test photos), chance, positions, train_photos, test_photos.

    weights: "trained" (run.model()) or "init" (initial_model(run), its BN statistics recalibrated on the
    training half's photos: the random-init null). Photos are split in halves by split_photos(N, seed).
    Cached in <root or the run's results folder>/_probes/ (see _cache_path); cache=False recomputes and
    writes nothing. images: uint8 photos to use instead of probe_photos (then n_photos is ignored)."""
    if weights not in ("trained", "init"):
        raise ValueError(f"weights must be 'trained' or 'init', got {weights!r}")
    params = dict(positions=positions, n_photos=None if images is not None else n_photos, scale=scale,
                  weights=weights, C=C, n_boot=n_boot, seed=seed)
    if images is not None:  # photos given by the caller: their bytes are part of the key
        params["images"] = hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:16]
    path = _cache_path(run, params, root)
    if cache:
        try:
            return pd.DataFrame(results.load_torch(path, "cached probe")["rows"])
        except (FileNotFoundError, results.CorruptResults, KeyError, TypeError):
            pass
    images = probe_photos(run.config, n_photos) if images is None else images
    train_idx, test_idx = split_photos(len(images), seed)
    model = run.model() if weights == "trained" else recalibrate_bn(initial_model(run), images[train_idx], run.config)
    rows = []
    for axis in AXES:
        feats = position_features(run, positions, axis, images=images, scale=scale, model=model)
        for name in FEATURE_SETS:
            rows.append({"run": Path(run.path).name, "preset": run.config.get("preset"), "seed": run.config.get("seed"),
                         "weights": weights, "axis": axis, "features": name,
                         **fit_probe(feats[name], train_idx, test_idx, C=C, n_boot=n_boot, seed=seed),
                         "positions": positions, "train_photos": len(train_idx), "test_photos": len(test_idx)})
    if cache:
        results.save_torch({"rows": {k: [r[k] for r in rows] for k in rows[0]}, "params": params}, path)
    return pd.DataFrame(rows)
