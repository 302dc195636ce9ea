"""What a run is: the profiles (how big, how long), ONE table of runs (what is trained), and `resolve`.

    RUNS      every run of the book, by preset name: network (networks.NETWORKS), model keywords (head /
              intervention, layer table), data interventions, seeds, what it is (what the article found: article.CLAIMS)
    STUDY     the scale study's points: a preset with overrides of the profile, one thing varied at a time
    PROFILES  smoke (tests), cpu (the default, 2 cores), gpu-small (the whole book on one GPU), gpu (the
              article's scale); each holds the settings of each family of networks, an architecture's own
              settings inside its family's dict (e.g. torchvision=dict(..., vgg19=dict(lr=0.01)))

`resolve(preset, profile, seed, **overrides)` turns them into a run's config: a JSON-able dict holding
everything that decides the run. It is pure (no file access but the CPU flags, read once): finished results load without the photos,
and worker processes receive the resolved config itself. The CLI, `make runs`, the notebooks and the
benchmarks all read from here.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
from dataclasses import dataclass

from . import hardware
from .models import BLOCKS, SHORT_BLOCKS
from .networks import NETWORKS

FORMAT = 1  # bump when the layout of a results folder changes incompatibly; part of every config
# The recipe version: bump it with any change to what a run computes for a given config (training loop,
# augmentation, initialization, model code, numerics). It is part of every config, so results trained by
# older code get another folder and are never reused as new. 2: bf16 autocast on CPUs with bf16 units,
# the loss in fp32, channels_last on the CPU in bf16, the precision in the run's identity.
RECIPE = 2


@dataclass(frozen=True, kw_only=True)
class Profile:
    """How big and how long. One frozen instance per profile in PROFILES, built with keywords."""

    name: str
    dataset: str  # photo set name or path (see data.split_folder); "synthetic" = built-in scenes, no files
    image_size: int  # px, images decoded (or streamed) at this size
    in_size: int  # px, network input: random-resized crops of the decoded image
    # The settings of each family of networks (networks.NETWORKS[arch].family) on this profile: model keywords
    # and Profile fields that differ for that family, applied as the preset's overrides would be
    simplified: dict  # the simplified net: width, pools, init_scale, blocks (see models.simplified_net)
    torchvision: dict  # the torchvision architectures: width, stem_pool (see architectures.torchvision_net)
    batch_size: int  # global batch (split across DDP ranks)
    steps: int  # optimizer steps; 0 = run `epochs` epochs
    epochs: int = 0  # used when steps == 0
    late_batch: tuple = (0, 0)  # (epoch, batch): switch to a bigger batch from that epoch, LR scaled along
    lr: float = 0.05  # peak LR for batch_size (SGD)
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) or "adamw"
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv (and other) weights; none on batch norm and biases
    head_weight_decay: float = -1.0  # on the classifier's weights (train.HEAD_PREFIXES); < 0: weight_decay
    warmup: int = 100  # steps of linear warm-up, then cosine decay to 0
    label_smoothing: float = 0.0
    log_every: int = 50  # steps between records of loss, banding and subset accuracy
    checkpoint_every: int = 100  # steps between atomic checkpoints
    val_subset: int = 500  # val images (class-stratified, fixed) for the accuracy in intermediate records (all at the end)
    stream: bool = False  # True: DataLoader workers read the photos from disk (ImageNet); False: decode once into memory
    workers: int = 0  # DataLoader worker processes when streaming
    threads: int = 0  # CPU threads per process; 0 = torch's default
    amp: bool = True  # bf16 autocast where the device has bf16 units (CUDA; CPUs with AMX-BF16 / AVX512-BF16)
    precision: str = "auto"  # "auto" (bf16 when amp and the units exist, else fp32), "bf16" or "fp32" forced;
    #                          resolve replaces it with the precision the run trains in (hardware.precision)
    channels_last: bool = True  # NHWC activations where they pay (CUDA; the CPU in bf16: train._memory_format)
    compile: bool = False  # torch.compile the model (CUDA only)
    synthetic_images: int = 512  # number of synthetic training images (dataset "synthetic")
    crop_scale: tuple = (0.25, 1.0)  # random-resized-crop area share
    decode: str = "cpu"  # streaming only: "cpu" (workers decode) or "device" (workers read bytes, nvjpeg decodes batches)


# Fields that decide how fast a run goes on this machine, not what it learns: kept out of the run's identity
# (config["machine"], which results.config_hash skips). Older fields of that kind (threads, workers, ...)
# stay in config["train"] so that finished results keep their folders.
MACHINE_FIELDS = ("decode",)
_SCALE_FIELDS = ("name", "simplified", "torchvision")  # what the networks get, not config["train"]

# Plain VGG19 (no batch norm) does not start learning at the LR that suits the others (cpu profile: loss stuck at
# ln 10 for 600 steps at 0.05 and 0.02); VGG was trained at 0.01 per 256: a fifth of a profile's LR, written out in
# each profile's vgg19 dict. On small data (Imagenette) the torchvision nets train with the usual weight decay 5e-4
# and the framework's own init (init_scale=1.0, written where it departs from the profile's simplified net): an
# earlier choice (ResNet50 at decay 2e-2 and conv init x0.1) was made for its bands, and the learning issue's rule
# chooses recipes by accuracy, never by bands.

PROFILES = {
    # seconds: tests and CI, built-in synthetic scenes, no photos, no network
    "smoke": Profile(name="smoke", dataset="synthetic", image_size=32, in_size=32,
                     simplified=dict(width=0.125, pools=3, init_scale=0.1),
                     torchvision=dict(width=0.0625, vgg19=dict(lr=0.01)),
                     batch_size=16, steps=12, lr=0.05, warmup=2, log_every=4, checkpoint_every=4, val_subset=64,
                     threads=1, synthetic_images=256),
    # the default: Imagenette photos on a 2-core CPU, two runs at a time. Chosen by the baseline's validation
    # accuracy at a fixed CPU budget on seed 0, never by its bands (benchmarks/recipe_search.py, its table in
    # benchmarks/recipe_search.json and on book page 06_scale), then confirmed on seeds 1 and 2: the article's
    # net without blocks 3-4 (at the same CPU budget the twelve layers learned far less) at width 3/16; 56 px
    # input and 3 pools end on a 7x7 map as the article's 224 px and 5 pools; the usual weight decay 5e-4 (the
    # profile before it used 2e-2: its nets barely learned and every head banded). The torchvision nets drop
    # their stem's first max pool so that 56 px still ends on a 4x4 (VGG19: 3x3) map, each with its own recipe
    # chosen the same way (its baseline's val. accuracy on seed 0 within 5.5 min a run: the 21 runs fit an hour
    # on 2 cores); a run that does not learn is graded inconclusive (article.learned).
    "cpu": Profile(name="cpu", dataset="imagenette2-160", image_size=64, in_size=56,
                   simplified=dict(width=0.1875, pools=3, init_scale=1.0, blocks=list(SHORT_BLOCKS)),
                   torchvision=dict(width=0.125, stem_pool=False, lr=0.05, log_every=50,
                                    # each architecture's recipe (benchmarks/arch_recipe_search.py: its baseline's
                                    # val. accuracy on seed 0 within 5.5 min a run, >= 32 neurons scored)
                                    googlenet=dict(init_scale=1.0, width=0.25, steps=1800),  # 32 neurons scored
                                    resnet50=dict(init_scale=1.0, steps=2000, lr=0.1, warmup=400),
                                    vgg19=dict(batch_norm=True, width=0.0625, steps=2400, lr=0.1)),  # vgg19_bn order
                   batch_size=64, steps=2400, lr=0.1, warmup=60, weight_decay=5e-4,
                   label_smoothing=0.1, crop_scale=(0.35, 1.0), log_every=200, checkpoint_every=100,
                   val_subset=500, threads=1),
    # the whole book on one GPU: Imagenette at 320 px (python -m banding_lib fetches it when online), the
    # article's network at full width on 224 px crops (5 pools: a 7x7 final map, as the article), the torchvision
    # nets at full width with their stem pools (7x7), decoded once into memory (9469 images at 256 px: 1.9 GB).
    # The usual weight decay 5e-4 and the framework's init (as the cpu profile's recipe, chosen for learning),
    # 3000 steps of 256 (81 epochs). Not yet run on hardware: benchmarks/run.py cuda measures its speed.
    "gpu-small": Profile(name="gpu-small", dataset="imagenette2-320", image_size=256, in_size=224,
                         simplified=dict(width=1.0, pools=5, init_scale=1.0),
                         torchvision=dict(width=1.0, googlenet=dict(init_scale=1.0), resnet50=dict(init_scale=1.0),
                                          vgg19=dict(lr=0.02)),
                         batch_size=256, steps=3000, lr=0.1, warmup=300, weight_decay=5e-4,
                         log_every=250, checkpoint_every=500, val_subset=1000, workers=8),
    # the article's scale: ImageNet at 224 px, 90 epochs, batch 512 then 1024 from epoch 30, streamed from
    # disk by DataLoader workers; torchrun --nproc_per_node 8 (--nnodes N for more machines)
    "gpu": Profile(name="gpu", dataset="imagenet", image_size=256, in_size=224,
                   simplified=dict(width=1.0, pools=5, init_scale=1.0), torchvision=dict(width=1.0, vgg19=dict(lr=0.04)),
                   batch_size=512, steps=0, epochs=90, late_batch=(30, 1024), lr=0.2, warmup=2500,
                   label_smoothing=0.0, log_every=500, checkpoint_every=2000, val_subset=10000,
                   stream=True, workers=12, compile=True),
}


# --- the table of runs ---

THREE_SEEDS = (0, 1, 2)  # for the runs whose comparison carries the article's claim


def _run(about, head="gap", data=None, seeds=(0,), arch="simplified", **model):
    return {"arch": arch, "model": {"head": head, **model}, "data": data or {}, "seeds": tuple(seeds), "about": about}


# What figures 9-11 retrain (what the article found: banding_lib.article.CLAIMS)
_ARCH_VARIANTS = {  # variant -> (head, rotate90, what it is, seeds: 3 for the control, 2 for each intervention)
    "baseline": ("gap", False, "global average pooling, upright images", THREE_SEEDS),
    "rotated": ("gap", True, "global average pooling, images rotated 90 degrees", (0, 1)),
    "flatten": ("flatten", False, "global pooling removed, the classifier sees the whole last map", (0, 1)),
}

# Every run of the book: the article's simplified net with each intervention, the follow-ups it proposed but
# never ran, and figures 9-11's three architectures retrained three ways.
RUNS = {
    "baseline": _run("GAP then FC", seeds=THREE_SEEDS),
    "rotated": _run("inputs rotated 90 degrees", data={"rotate90": True},
                    seeds=THREE_SEEDS),
    "flatten": _run("no GAP, FC over the whole map", "flatten", seeds=THREE_SEEDS),
    "x_pool": _run("average over x only, then FC", "x", seeds=THREE_SEEDS),
    "masks3": _run("3 sigmoid-gated masks, each an average, then FC (gap-mask-3-sig)",
                     "masks", n_masks=3, mask_gate="sigmoid", seeds=THREE_SEEDS),
    "masks5": _run("5 sigmoid-gated masks, each an average, then FC (gap-mask-5-sig)",
                     "masks", n_masks=5, mask_gate="sigmoid", seeds=THREE_SEEDS),
    "masks16": _run("16 sigmoid-gated masks, each an average, then FC (gap-mask-16-sig)",
                     "masks", n_masks=16, mask_gate="sigmoid", seeds=THREE_SEEDS),
    "mask_full": _run("a learned C x S x S mask after 5b, then GAP", "mask_full", seeds=THREE_SEEDS),
    "attention": _run("attention pooling in place of GAP", "attention", seeds=THREE_SEEDS),
    "coordconv": _run("CoordConv channels on the inputs of 5a and 5b", coordconv=True, seeds=THREE_SEEDS),
    "groups": _run("5b in 16 channel groups, each with its own FC over every position", "groups", seeds=THREE_SEEDS),
    "maxpool_fc": _run("global max pool, FC 4096, FC (VGG-like)", "maxpool_fc", seeds=THREE_SEEDS),
    "xy_pool": _run("follow-up: x-pooled and y-pooled features together", "xy"),
    "random_rotation": _run("follow-up: random rotations by any angle as a regularizer", data={"random_rotation": 180.0},
                            seeds=(0, 1)),
    "vflip": _run("follow-up: random vertical flips", data={"vflip": True}, seeds=(0, 1)),
    # the flatten and x-pool heads divide their features by sqrt(n) (models.FlattenHead says why): ablated, one seed
    "flatten_unscaled": _run("ablation: no GAP, FC over the whole map, features not divided by sqrt(n)", "flatten",
                             scale_features=False),
    "x_pool_unscaled": _run("ablation: average over x only, features not divided by sqrt(n)", "x", scale_features=False),
    "y_pool": _run("control: average over y only, then FC (the mirror of x_pool)", "y", seeds=THREE_SEEDS),
    # the key contrasts and controls on a second photo set (centred objects, little sky-above-ground structure)
    **{f"tin10_{p}": _run(f"{about} (tin10-objects photos)", head, data={"dataset": "tin10-objects", **data},
                          seeds=seeds)
       for p, (about, head, data, seeds) in {
           "baseline": ("GAP then FC", "gap", {}, THREE_SEEDS),
           "rotated": ("inputs rotated 90 degrees", "gap", {"rotate90": True}, (0, 1)),
           "flatten": ("no GAP, FC over the whole map", "flatten", {}, THREE_SEEDS),
           "x_pool": ("average over x only, then FC", "x", {}, (0, 1)),
           "vflip": ("random vertical flips", "gap", {"vflip": True}, THREE_SEEDS),
           "random_rotation": ("random rotations by any angle", "gap", {"random_rotation": 180.0}, THREE_SEEDS),
       }.items()},
    **{f"{arch}_{variant}": _run(f"{arch}, {what}", head, data={"rotate90": rotate}, seeds=seeds, arch=arch)
       for arch in ("googlenet", "resnet50", "vgg19") for variant, (head, rotate, what, seeds) in _ARCH_VARIANTS.items()},
}
SIMPLIFIED = tuple(p for p, spec in RUNS.items() if spec["arch"] == "simplified")
ARCHITECTURES = tuple(p for p, spec in RUNS.items() if spec["arch"] != "simplified")
FOLLOW_UPS = ("xy_pool", "random_rotation", "vflip")
SECOND_SET = tuple(p for p in RUNS if p.startswith("tin10_"))  # the Generality runs (tin10-objects photos)
# Position or content: each photo set's baseline and the controls that tell its banding's cause (findings.position_*)
PHOTO_SETS = {"Imagenette": {"baseline": "baseline", "no GAP": "flatten", "vflip": "vflip",
                             "random rotation": "random_rotation"},
              "tin10-objects": {"baseline": "tin10_baseline", "no GAP": "tin10_flatten", "vflip": "tin10_vflip",
                                "random rotation": "tin10_random_rotation"}}


def _point(axis, label, preset="baseline", seeds=(0,), steps_share=None, **overrides):
    """A study point: `preset` with `overrides` of the profile; steps_share: that share of the profile's steps."""
    return {"axis": axis, "label": label, "preset": preset, "seeds": tuple(seeds), "steps_share": steps_share,
            "set": overrides}


K3 = (7, 3, 3, 3, 3, 3)  # 3x3 kernels after the 7x7 0a
OLD_DECAY = 2e-2  # the weight decay of the cpu profile before the learning issue: chosen for bands, barely learned


def _gap_over_training(decay: str = "the profile's", extra: dict | None = None, shares=(0.25, 0.5, 1.0, 2.0)):
    """The GAP effect over training (the learning issue): the baseline and its no-GAP control side by side at
    `shares` of the profile's steps, at the profile's weight decay (or `extra`'s). The two full-length runs at the
    profile's decay are the book's own baseline and flatten seed 0; twice the steps asks how much of the gap to
    the article is training length."""
    return [_point("GAP over training", f"{head}, {share:g} x the steps, weight decay {decay}", preset,
                   steps_share=None if share == 1.0 else share, **(extra or {}))
            for share in shares for preset, head in (("baseline", "GAP"), ("flatten", "no GAP"))]


# The scale study (book page 06_scale): one thing varied at a time around the profile (overrides of it); the
# first point is the profile itself, the same run as the book's baseline seed 0. In the order they are trained.
STUDY = [
    _point("the profile", "the profile"),
    _point("the profile", "the profile, trained on images rotated 90°", "rotated"),
    *_gap_over_training(),
]
# Cut from the study for the book's time budget (a from-scratch `make book` <= 180 min on 2 cores with bf16 units,
# the Evidence issue's order of cuts: the heavy points and the 2-thread repeat first, then the points no claim
# rests on); earlier builds of this book measured them. Train one by hand (e.g. `python -m banding_lib train
# baseline --set width=0.375`), or move it back into STUDY.
CUT_POINTS = [
    # the same run on 2 threads: how far floating-point noise alone moves a score, beside the seeds' spread
    _point("floating-point noise", "the profile on 2 threads (same seed)", threads=2),
    *_gap_over_training(f"{OLD_DECAY:g}", {"weight_decay": OLD_DECAY}, (0.25, 0.5, 1.0)),
    _point("weight decay", "weight decay 5e-3", weight_decay=5e-3),
    _point("depth", "the article's twelve layers (blocks 3-4 kept)", blocks=list(BLOCKS)),
    _point("kernel size", "3x3 kernels after 0a", kernels=K3),
    _point("width", "width 0.375", width=0.375),
    _point("input size", "80 px input (10x10 last map)", in_size=80, image_size=88),
    _point("augmentation", "crop area 0.08-1", crop_scale=[0.08, 1.0]),
]


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def check_preset(name: str) -> str:
    if name not in RUNS:
        close = difflib.get_close_matches(name, RUNS, n=3)
        raise ValueError(f"unknown preset {name!r}" + (f" (did you mean {' or '.join(close)}?)" if close else "")
                         + f"; valid presets: {', '.join(RUNS)}")
    return name


def _model_keywords(arch: str) -> set:
    builder, _ = NETWORKS[arch].load()  # read, never called
    return set(inspect.signature(builder).parameters) - {"num_classes"}


# What each numeric Profile field must be, checked on overrides: out of range, a run would fail deep inside
# training (batch_size=0: a division by zero) or never end (steps=-5: its plan grows until memory runs out).
_RANGES = {
    "image_size": (lambda v: v >= 1, ">= 1 (px)"),
    "in_size": (lambda v: v >= 1, ">= 1 (px)"),
    "batch_size": (lambda v: v >= 1, ">= 1"),
    "steps": (lambda v: v >= 0, ">= 0 (0: train for `epochs` epochs)"),
    "epochs": (lambda v: v >= 0, ">= 0"),
    "lr": (lambda v: v > 0, "> 0"),
    "momentum": (lambda v: 0 < v < 1, "> 0 and < 1 (Nesterov momentum needs some)"),
    "weight_decay": (lambda v: v >= 0, ">= 0"),
    "warmup": (lambda v: v >= 0, ">= 0 (steps)"),
    "label_smoothing": (lambda v: 0 <= v < 1, ">= 0 and < 1"),
    "log_every": (lambda v: v >= 1, ">= 1 (steps)"),
    "checkpoint_every": (lambda v: v >= 1, ">= 1 (steps)"),
    "val_subset": (lambda v: v >= 1, ">= 1 (images)"),
    "workers": (lambda v: v >= 0, ">= 0"),
    "threads": (lambda v: v >= 0, ">= 0 (0: torch's default)"),
    "synthetic_images": (lambda v: v >= 4, ">= 4 (a quarter as many again are made for validation)"),
}


def _check_overrides(overrides: dict, prof: Profile, fields: set, arch: str) -> None:
    """ValueError for a key that is neither a Profile field nor a model keyword or for a value out of its
    field's range (_RANGES), TypeError for a Profile field of the wrong type: each would otherwise fail deep
    inside training, or never end."""
    model_keys = _model_keywords(arch)
    unknown = sorted(set(overrides) - fields - model_keys)
    if unknown:
        raise ValueError(f"unknown override {', '.join(map(repr, unknown))}; valid: Profile fields "
                         f"{', '.join(sorted(fields))} and model keywords {', '.join(sorted(model_keys))}")
    for key, value in overrides.items():
        if key not in fields:
            continue  # a model keyword: left to the network's builder
        want = type(getattr(prof, key))
        ok = isinstance(value, want) or (want is float and isinstance(value, int)) or (
            want is tuple and isinstance(value, list))
        if not ok or (isinstance(value, bool) and want is not bool):  # true is an int to Python, not to a user
            raise TypeError(f"override {key}={value!r} is a {type(value).__name__}; expected {want.__name__}")
        if key in _RANGES and not _RANGES[key][0](value):
            raise ValueError(f"override {key}={value!r} is out of range: {key} must be {_RANGES[key][1]}; "
                             f"the {prof.name} profile uses {key}={getattr(prof, key)!r}")


def resolve(preset: str, profile: str = "cpu", seed: int = 0, data_root=None, **overrides) -> dict:
    """The resolved config of a run: everything that decides its outcome, JSON-able; no file access.
    Two layers: the profile (its fields, then its network family's dict, then the architecture's own dict inside
    it, e.g. torchvision=dict(..., vgg19=dict(lr=0.01))), then `overrides`: Profile fields (steps=..., lr=...) or
    model keywords (init_scale=..., width=...), which win. data_root: where the photo sets lie (None: data.data_root's default, looked
    up when the run loads its photos)."""
    spec = RUNS[check_preset(preset)]
    prof = get_profile(profile)
    arch = spec["arch"]
    fields = {f.name for f in dataclasses.fields(Profile)} - set(_SCALE_FIELDS)
    _check_overrides(overrides, prof, fields, arch)
    family = getattr(prof, NETWORKS[arch].family)  # this family's settings, each architecture's own inside
    settings = {**{k: v for k, v in family.items() if k not in NETWORKS}, **family.get(arch, {}), **overrides}
    model = {k: v for k, v in settings.items() if k not in fields}
    prof = dataclasses.replace(prof, **{k: v for k, v in settings.items() if k in fields})
    train = {k: v for k, v in dataclasses.asdict(prof).items() if k not in _SCALE_FIELDS + MACHINE_FIELDS}
    train["precision"] = hardware.precision(prof.amp, prof.precision)  # part of the identity: bf16 != fp32
    return {
        "preset": preset, "profile": profile, "seed": int(seed), "arch": arch,
        "model": {**spec["model"], **model, "in_size": prof.in_size},
        # a run on a second photo set names it (spec["data"]["dataset"]); the synthetic profile has no photos to swap
        "data": {"dataset": spec["data"].get("dataset", prof.dataset) if prof.dataset != "synthetic" else prof.dataset,
                 **{k: v for k, v in spec["data"].items() if k != "dataset"}},
        "train": train,
        "format": FORMAT, "recipe_version": RECIPE,
        # how and where on this machine: not part of the run's identity (results.config_hash skips both)
        "machine": {k: getattr(prof, k) for k in MACHINE_FIELDS},
        "paths": {"data_root": None if data_root is None else os.path.abspath(os.path.expanduser(str(data_root)))},
    }


def book_configs(profile: str = "cpu", data_root=None, **overrides) -> list[dict]:
    """Every run the book shows, each with its seeds, then the scale study's points (those only without
    overrides: the study varies the profile itself). What `make runs` trains."""
    runs = [resolve(p, profile, s, data_root, **overrides) for p, spec in RUNS.items() for s in spec["seeds"]]
    return runs + ([] if overrides else [c for _, c in study_configs(profile, data_root)])


def study_configs(profile: str = "cpu", data_root=None) -> list[tuple[dict, dict]]:
    """[(point, resolved config)] for every point of STUDY and its seeds."""
    steps = lambda p: {"steps": max(1, round(get_profile(profile).steps * p["steps_share"]))} if p["steps_share"] else {}
    return [(p, resolve(p["preset"], profile, s, data_root, **p["set"], **steps(p))) for p in STUDY for s in p["seeds"]]


# --- notebook parameters (papermill) ---

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v) -> bool:
    return isinstance(v, str)


def _list_of(check):
    return lambda v: isinstance(v, (list, tuple)) and all(check(x) for x in v)


# name -> (type check, the expected type in words). Extend when a notebook adds one.
NOTEBOOK_PARAMS = {
    "profile": (_is_str, "str, one of " + ", ".join(PROFILES)),
    "seed": (_is_int, "int"),
    "seeds": (_list_of(_is_int), "list of int, e.g. [0, 1, 2]"),
    "runs": (_list_of(_is_str), "list of str (preset names)"),
    "presets": (_list_of(_is_str), "list of str (preset names)"),
    "preset": (_is_str, "str (a preset name)"),
    "results_root": (lambda v: v is None or _is_str(v), "str or None"),
}


def validate_params(**params) -> dict:
    """Check a notebook's papermill parameters (call it in the cell after the `parameters` cell).
    TypeError naming the parameter, its type and the expected type when one is of the wrong type (papermill's
    -p passes "[0, 1]" as text: lists go with -y 'seeds: [0, 1]'); ValueError for an unknown profile or
    preset; TypeError for a name not in NOTEBOOK_PARAMS. Returns the parameters unchanged."""
    for name, value in params.items():
        if name not in NOTEBOOK_PARAMS:
            raise TypeError(f"unknown notebook parameter {name!r}; known: {', '.join(NOTEBOOK_PARAMS)} "
                            "(add it to banding_lib.config.NOTEBOOK_PARAMS)")
        check, expected = NOTEBOOK_PARAMS[name]
        if not check(value):
            hint = " (papermill -p passes text; give lists with -y, e.g. -y 'seeds: [0, 1]')" if _is_str(value) else ""
            raise TypeError(f"notebook parameter {name!r} is {type(value).__name__} {value!r}; "
                            f"expected {expected}{hint}")
    if "profile" in params:
        get_profile(params["profile"])
    for name in ("runs", "presets", "preset"):
        for preset in ([params[name]] if name == "preset" and name in params else params.get(name, [])):
            if preset not in RUNS:
                raise ValueError(f"notebook parameter {name!r}: unknown preset {preset!r}; "
                                 f"valid presets: {', '.join(RUNS)}")
    return params
