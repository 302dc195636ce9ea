"""Photo sets as uint8 batches: where a set lies (and its download), decoding (and its cache), the two batch
sources, and synthetic scenes. Augmentation and the data interventions are banding_lib.augment's.

Layout: <split folder>/<class folder>/<image>, as ImageNet, Imagenette (`imagenette2-160/train/n01440764/...`)
and torchvision's ImageFolder. Images are tensors NCHW; y is the H axis (dim -2), x the W axis (dim -1).

Two sources of batches with one interface (`epoch(...)` yields uint8 batches and labels in the same order
for the same seed, epoch and rank; `skip` resumes mid-epoch exactly):
- `InMemory`: a whole split decoded once into a uint8 tensor (`decode_split`, cached on disk, invalidated
  when the files or the size change), for small sets (Imagenette);
- `Stream`: DataLoader worker processes read and decode the photos of each batch (`load_image`, as the
  in-memory path: PIL decodes a 500x375 JPEG to 256 px at 303 img/s per core, torchvision.io at 148; on CUDA,
  optionally whole batches by nvjpeg on the GPU), so memory does not grow with the set (ImageNet). Unreadable
  files are skipped with a warning that names them.
Either way the batches then go through `augment.augment`, on the training device.
"""
from __future__ import annotations

import copy
import hashlib
import math
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGENETTE = {"imagenette2-160": "160px", "imagenette2-320": "320px", "imagenette2": "full"}
KNOWN_SETS = (*IMAGENETTE, "imagenet", "tin10-objects")
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class DataNotFound(FileNotFoundError):
    """A data folder that is missing, empty, or not in ImageFolder layout; the message says what to do."""


class BadImage(OSError):
    """An image file that PIL cannot read."""


CHECKOUT = Path(__file__).resolve().parents[1]  # the repository this package runs from


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding the photo sets, the one default of the CLI, the Makefile and the notebooks: `root`,
    else $BANDING_DATA, else the checkout's data/ if it exists, else ../shared/data beside the checkout if that
    exists (this project's machines), else the checkout's data/ (where a download goes)."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("BANDING_DATA"):
        return Path(os.environ["BANDING_DATA"]).expanduser()
    own, shared = CHECKOUT / "data", CHECKOUT.parent / "shared" / "data"
    return shared if not own.is_dir() and shared.is_dir() else own


def is_split_tree(path) -> bool:
    """True if `path` is itself an ImageFolder tree with train/ and val/ inside (not a folder of named sets).
    DataNotFound if it holds only one of the two: half a tree is neither, and the run needs both splits."""
    path = Path(path).expanduser()
    found = [split for split in ("train", "val") if (path / split).is_dir()]
    if len(found) == 1:
        missing = "val" if found == ["train"] else "train"
        raise DataNotFound(f"{path} has {found[0]}/ but no {missing}/: expected {path}/train/<class>/<image>.jpg and "
                           f"{path}/val/<class>/<image>.jpg (ImageFolder layout, one folder per class); add "
                           f"{path}/{missing}/ with the same class folders")
    return len(found) == 2


def cache_dir() -> Path:
    """Where decoded splits are cached: $BANDING_CACHE, else ~/.cache/banding_lib."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "banding_lib"
    return Path(os.environ.get("BANDING_CACHE", default)).expanduser()


def split_folder(dataset: str, split: str = "train", root=None, download: bool = True) -> Path:
    """The folder of one split. `dataset`: an Imagenette name (imagenette2-160, imagenette2-320,
    imagenette2), "imagenet" (root/imagenet/{train,val}), "tin10-objects" (banding_lib.tin10), the name of another
    set with train/ and val/ under the data root, or a path to any ImageFolder tree (with or without train/ and
    val/ inside). A missing Imagenette or tin10-objects is downloaded when online."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if dataset not in KNOWN_SETS:
        path = Path(dataset).expanduser()
        named = data_root(root) / dataset  # another set by name beside the known ones (e.g. tin10-objects)
        if not path.is_dir() and is_split_tree(named):
            return named / split
        if not path.is_dir():
            raise DataNotFound(f"data set {dataset!r} is neither a known name ({', '.join(KNOWN_SETS)}), nor a "
                               f"folder with train/ and val/ under the data root ({named.resolve()}), nor an "
                               "existing folder: point BANDING_DATA (or --data) at the folder that holds it")
        return path / split if is_split_tree(path) else path
    base = data_root(root)
    folder = base / dataset / split
    if folder.is_dir():
        return folder
    if dataset in IMAGENETTE and download:
        _download_imagenette(base, dataset, split)
    elif dataset == "tin10-objects" and download:
        from . import tin10

        tin10.download(base)
    if folder.is_dir():
        return folder
    how = ("download it from https://github.com/fastai/imagenette (tgz, unpack there) or " if dataset in IMAGENETTE
           else "download Tiny-ImageNet's zip (http://cs231n.stanford.edu/tiny-imagenet-200.zip) and run "
           "`python -c 'from banding_lib import tin10; tin10.extract(ZIP, DATA_ROOT / \"tin10-objects\")'`, or "
           if dataset == "tin10-objects" else "place ImageNet's train/ and val/ (one folder per wnid) there, or ")
    raise DataNotFound(f"no {dataset!r} {split} split at {folder.resolve()}: {how}"
                       f"point BANDING_DATA (or --data / data_root=) at the folder that holds {dataset}/")


def _download_imagenette(base: Path, dataset: str, split: str) -> None:
    """torchvision's Imagenette download into base/<dataset>; offline it fails, and the caller reports."""
    from torchvision.datasets import Imagenette

    made = not base.exists()
    try:
        base.mkdir(parents=True, exist_ok=True)
        Imagenette(str(base), split=split, size=IMAGENETTE[dataset], download=True)
    except Exception as err:  # URLError, OSError, RuntimeError: all mean "could not fetch it here"
        print(f"[banding_lib] could not download {dataset} into {base} ({type(err).__name__}: {err})")
        if made and not any(p.is_file() for p in base.rglob("*")):
            shutil.rmtree(base, ignore_errors=True)  # leave no empty folder behind


def list_images(folder: str | os.PathLike) -> tuple[list[tuple[Path, int]], list[str]]:
    """(path, label) pairs and sorted class names of an ImageFolder split."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFound(f"data folder {folder} does not exist")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataNotFound(f"{folder} has no class subfolders: expected {folder}/<class>/<image>.jpg "
                           "(ImageFolder layout, one folder per class)")
    samples = [(p, label) for label, c in enumerate(classes) for p in sorted((folder / c).iterdir())
               if p.suffix.lower() in IMG_EXTENSIONS]
    if not samples:
        raise DataNotFound(f"{folder} has class folders ({', '.join(classes[:5])}...) but no images "
                           f"with extensions {', '.join(IMG_EXTENSIONS)}")
    return samples, classes


def load_image(path: str | os.PathLike, size: int) -> torch.Tensor:
    """One image as uint8 (3, size, size): RGB, short side resized to `size`, centre crop."""
    try:
        with Image.open(path) as img:
            img.draft("RGB", (size, size))  # JPEG: decode at reduced scale, much faster
            img = img.convert("RGB")
            w, h = img.size
            s = size / min(w, h)
            img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BILINEAR, reducing_gap=3.0)
            w, h = img.size
            left, top = (w - size) // 2, (h - size) // 2
            img = img.crop((left, top, left + size, top + size))
            array = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise BadImage(f"cannot read image {path}: {err}; delete or replace the file") from err
    return torch.from_numpy(array.copy()).permute(2, 0, 1)  # (3, H, W)


def fit(img: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (3, H, W) -> uint8 (3, size, size), on the tensor's device: short side resized to `size`
    (antialiased), centre crop, as load_image does on the CPU."""
    from torchvision.transforms.v2 import functional as TF

    return TF.center_crop(TF.resize(img, size, antialias=True), [size, size])


class ImageFolderSet(torch.utils.data.Dataset):
    """An ImageFolder split as (uint8 (3, size, size), label) pairs, read from disk on demand (DataLoader
    workers). encoded=True: (the file's bytes, label) instead, for decoding whole batches on the GPU. An
    unreadable file gives None (collate drops it) and a warning naming it."""

    def __init__(self, folder, size: int, encoded: bool = False):
        self.samples, self.classes = list_images(folder)
        self.size, self.encoded = size, encoded

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def labels(self) -> torch.Tensor:
        return torch.tensor([label for _, label in self.samples], dtype=torch.int64)

    def __getitem__(self, i: int):
        path, label = self.samples[i]
        if self.encoded:  # (name, plain bytes): pickled to the main process (tensors would each need a shared fd)
            return (str(path), path.read_bytes()), label
        try:
            return load_image(path, self.size), label
        except BadImage as err:
            warnings.warn(f"skipping {err}", stacklevel=1)
            return None


def _collate(items):
    items = [item for item in items if item is not None]
    if not items:
        return None
    images, labels = zip(*items)
    labels = torch.tensor(labels, dtype=torch.int64)
    return (list(images) if isinstance(images[0], tuple) else torch.stack(images)), labels


def decode_batch(files: list[tuple[str, bytes]], size: int, device) -> torch.Tensor:
    """Encoded photos (name, bytes) -> uint8 (B, 3, size, size) on `device`: JPEGs in one batched
    torchvision.io.decode_jpeg call (nvjpeg on CUDA), other formats on the CPU. Unreadable files are dropped
    with a warning naming them."""
    from torchvision.io import ImageReadMode, decode_image, decode_jpeg

    encoded = [torch.frombuffer(bytearray(f), dtype=torch.uint8) for _, f in files]
    jpeg = [i for i, raw in enumerate(encoded) if raw[:2].tolist() == [0xFF, 0xD8]]
    out = [None] * len(encoded)
    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its image decoders for TorchCodec (not in this pinned stack); they still work
        warnings.filterwarnings("ignore", "The image decoding and encoding capabilities of TorchVision",
                                DeprecationWarning)
        if jpeg:
            try:
                for i, img in zip(jpeg, decode_jpeg([encoded[i] for i in jpeg], mode=ImageReadMode.RGB, device=device)):
                    out[i] = img
            except RuntimeError:  # one bad JPEG fails the whole call: decode them one by one below
                pass
        for i, raw in enumerate(encoded):
            if out[i] is None:
                try:
                    out[i] = decode_image(raw, mode=ImageReadMode.RGB).to(device)
                except (RuntimeError, ValueError) as err:
                    warnings.warn(f"skipping unreadable image {files[i][0]} ({err})", stacklevel=1)
    return torch.stack([fit(img, size) for img in out if img is not None])


def epoch_order(n: int, seed: int, epoch: int, rank: int = 0, world: int = 1, shuffle: bool = True) -> list[int]:
    """The indices rank `rank` of `world` visits in `epoch`: torch's DistributedSampler (one permutation drawn
    from seed * 1000 + epoch, shared by all ranks, each taking every world-th item; no padding)."""
    sampler = torch.utils.data.DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle,
                                                  seed=seed * 1000, drop_last=True)
    sampler.set_epoch(epoch)
    return list(sampler)


class InMemory:
    """A split held as uint8 tensors (decoded once): batches by slicing."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int):
        self.images, self.labels, self.num_classes = images, labels, num_classes

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> "InMemory":
        return InMemory(self.images[index], self.labels[index], self.num_classes)

    def to(self, device) -> "InMemory":
        """The split with its images on `device` (labels stay on the CPU, where evaluation counts): on a GPU each
        batch is then sliced where it is augmented and trained on, and never crosses the bus."""
        return InMemory(self.images.to(device), self.labels, self.num_classes)

    def epoch(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, world: int = 1,
              shuffle: bool = True, drop_last: bool = True, skip: int = 0, device=None):
        """(uint8 images, labels) batches of this rank, from the `skip`-th batch on."""
        order = torch.tensor(epoch_order(len(self), seed, epoch, rank, world, shuffle), dtype=torch.int64)
        stop = len(order) - (len(order) % batch_size if drop_last else 0)
        for i in range(skip * batch_size, stop, batch_size):
            idx = order[i:i + batch_size]
            yield self.images[idx], self.labels[idx]


class Stream:
    """A split read from disk batch by batch by `workers` DataLoader processes: memory does not grow with
    the number of photos. decode="device": workers read bytes, decode_batch decodes on the training device."""

    def __init__(self, folder, size: int, workers: int = 0, decode: str = "cpu", index=None):
        if decode not in ("cpu", "device"):
            raise ValueError(f"decode must be 'cpu' or 'device', got {decode!r}")
        self.set = ImageFolderSet(folder, size, encoded=decode == "device")
        self.workers, self.decode, self.size = workers, decode, size
        self.index = list(range(len(self.set))) if index is None else [int(i) for i in index]
        self.num_classes = len(self.set.classes)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def labels(self) -> torch.Tensor:
        return self.set.labels[self.index]

    def subset(self, index) -> "Stream":
        sub = copy.copy(self)  # shares the file list: no second scan of the folder
        sub.index = [self.index[int(i)] for i in index]
        return sub

    def epoch(self, batch_size: int, *, seed: int = 0, epoch: int = 0, rank: int = 0, world: int = 1,
              shuffle: bool = True, drop_last: bool = True, skip: int = 0, device=None):
        order = epoch_order(len(self), seed, epoch, rank, world, shuffle)[skip * batch_size:]
        loader = torch.utils.data.DataLoader(
            self.set, batch_size=batch_size, sampler=[self.index[i] for i in order], drop_last=drop_last,
            num_workers=self.workers, collate_fn=_collate, pin_memory=device is not None and device.type == "cuda",
            prefetch_factor=4 if self.workers else None, persistent_workers=False)
        for batch in loader:
            if batch is None:
                continue
            images, labels = batch
            if self.decode == "device":
                images = decode_batch(images, self.size, device or "cpu")
            yield images, labels


def _fingerprint(samples, size: int) -> str:
    h = hashlib.sha1(f"size={size}".encode())
    for path, label in samples:
        st = path.stat()
        h.update(f"{path.resolve()}|{label}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def open_split(dataset: str, split: str, size: int, root=None, *, stream: bool = False, workers: int = 0,
               decode: str = "cpu", progress: bool = True):
    """A split of a photo set as a batch source: Stream (from disk) or InMemory (decoded once)."""
    folder = split_folder(dataset, split, root)
    if stream:
        return Stream(folder, size, workers, decode)
    images, labels, classes = decode_split(folder, size, progress=progress)
    return InMemory(images, labels, len(classes))


def decode_split(folder, size: int, cache: bool = True, progress: bool = True):
    """Decode a whole split once: (images uint8 (N, 3, size, size), labels int64 (N,), classes).
    Cached under cache_dir(), keyed by the file list, sizes, mtimes and `size`; written atomically."""
    samples, classes = list_images(folder)
    key = _fingerprint(samples, size)
    path = cache_dir() / f"{Path(folder).parent.name}-{Path(folder).name}-{size}px-{key}.pt"
    if cache and path.exists():
        try:
            blob = torch.load(path, weights_only=True)
            return blob["images"], blob["labels"], list(blob["classes"])
        except Exception:  # a corrupt cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    from tqdm.auto import tqdm

    images = torch.empty(len(samples), 3, size, size, dtype=torch.uint8)
    for i, (p, _) in enumerate(tqdm(samples, desc=f"decode {Path(folder).name} @{size}px", disable=not progress)):
        images[i] = load_image(p, size)
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save({"images": images, "labels": labels, "classes": classes}, tmp)
        os.replace(tmp, path)
    return images, labels, classes


def stratified_subset(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of a fixed class-stratified subset of about n items: classes take turns (each class's items
    in their original order), so any prefix holds every class alike. Deterministic, no randomness."""
    rank = torch.empty(len(labels), dtype=torch.int64)  # rank of each item within its class
    for c in torch.unique(labels):
        idx = torch.nonzero(labels == c).flatten()
        rank[idx] = torch.arange(len(idx))
    order = torch.argsort(rank * len(labels) + torch.arange(len(labels)))  # round-robin over classes
    return order[:min(n, len(labels))].sort().values


def synthetic_images(n: int, size: int = 32, num_classes: int = 10, seed: int = 0):
    """Procedural scenes for tests and the smoke profile: (uint8 (n, 3, size, size), labels (n,)).
    Bright sky above a darker ground (a horizon near the middle, so y matters as in photos) with one
    object whose colour and shape (square or disc) give the class; position and size vary."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    horizon = 0.4 + 0.2 * torch.rand(n, 1, 1, generator=g)
    sky = torch.tensor([0.55, 0.7, 0.95])[:, None, None, None] * (1.1 - 0.4 * yy)
    ground = torch.tensor([0.35, 0.3, 0.15])[:, None, None, None] * (0.6 + 0.4 * yy)
    img = torch.where(yy < horizon, sky, ground).permute(1, 0, 2, 3).clone()  # (n, 3, S, S)
    hues = torch.linspace(0, 2 * math.pi, num_classes + 1)[:-1]
    colours = torch.stack([0.5 + 0.5 * torch.cos(hues + k * 2 * math.pi / 3) for k in range(3)], 1)
    cy, cx = 0.3 + 0.5 * torch.rand(n, generator=g), 0.2 + 0.6 * torch.rand(n, generator=g)
    r = 0.1 + 0.1 * torch.rand(n, generator=g)
    dy, dx = yy[None] - cy[:, None, None], xx[None] - cx[:, None, None]
    square = torch.maximum(dy.abs(), dx.abs()) < r[:, None, None]
    disc = dy ** 2 + dx ** 2 < r[:, None, None] ** 2
    mask = torch.where((labels % 2 == 0)[:, None, None], square, disc)  # (n, S, S)
    img = torch.where(mask[:, None], colours[labels][:, :, None, None], img)
    img = img + 0.05 * torch.randn(img.shape, generator=g)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8), labels
