"""The photo pack: a photo set's training photos and a fixed validation subset, re-encoded small enough to travel
with the checkout to a machine that has no photos (a lent GPU takes at most 64 MiB), in ImageFolder layout.

    pack/train/<class>/<photo>.jpg   every training photo, short side resized and centre-cropped to `size` px
    pack/val/<class>/<photo>.jpg     a fixed class-stratified subset of the validation photos (data.stratified_subset)
    pack/manifest.json               counts, classes, size, quality, bytes, and each file's sha256

The pack is an ordinary photo tree: `--data pack` (or dataset=<its path>) reads it as any other
(data.split_folder, data.decode_split). The photos are cropped square as data.load_image crops them at that size,
so decoding the pack at `size` gives the source's pixels but for the JPEG loss.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import torch
from PIL import Image

from . import data

PACK = data.CHECKOUT / "pack"  # git-ignored: the photos are never committed
SIZE = 128  # px: Imagenette's 9 469 training photos at 128 px and JPEG quality 75 are ~4.4 KB each, ~44 MiB in all
QUALITY = 75  # JPEG quality of the re-encoding
VAL = 1000  # validation photos kept: a fixed class-stratified subset (100 a class on Imagenette)
DIGEST = 16  # hex digits of each file's sha256 kept in the manifest: enough to catch a damaged copy


def _encode(img: torch.Tensor, quality: int) -> bytes:
    """uint8 (3, H, W) -> JPEG bytes (4:2:0, PIL's default subsampling)."""
    buffer = io.BytesIO()
    Image.fromarray(img.permute(1, 2, 0).numpy()).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _split_samples(dataset: str, split: str, root, keep: int | None):
    """(path, label) pairs and classes of one split; keep: that many, class-stratified (None: all)."""
    samples, classes = data.list_images(data.split_folder(dataset, split, root))
    if keep is not None:
        index = data.stratified_subset(torch.tensor([label for _, label in samples]), keep)
        samples = [samples[int(i)] for i in index]
    return samples, classes


def _clear(out: Path) -> None:
    """Remove an earlier pack at `out`; refuse a folder that is not one (it could be anyone's photos)."""
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").exists():
            raise FileExistsError(f"{out} exists and holds no pack (no manifest.json): give another --out")
        shutil.rmtree(out)


def write_pack(dataset: str = "imagenette2-160", out=PACK, root=None, *, size: int = SIZE, quality: int = QUALITY,
               val: int = VAL, progress: bool = True) -> dict:
    """Write the pack of `dataset` (a name or path, as data.split_folder takes it; root: the data root) into `out`,
    replacing an earlier pack there; returns the manifest (also written to out/manifest.json, last)."""
    from tqdm.auto import tqdm

    out = Path(out)
    _clear(out)
    manifest = {"format": 1, "source": str(dataset), "size": size, "quality": quality, "val_subset": val,
                "counts": {}, "per_class": {}, "bytes": {}, "sha256": {}}
    for split, keep in (("train", None), ("val", val)):
        samples, classes = _split_samples(dataset, split, root, keep)
        if manifest.setdefault("classes", classes) != classes:  # a label must mean one class in both splits
            raise data.DataNotFound(f"{dataset}: train/ and val/ hold different class folders")
        total = 0
        for path, label in tqdm(samples, desc=f"pack {split} @{size}px", disable=not progress):
            blob = _encode(data.load_image(path, size), quality)
            name = f"{split}/{classes[label]}/{path.stem}.jpg"
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(blob)
            manifest["sha256"][name] = hashlib.sha256(blob).hexdigest()[:DIGEST]
            total += len(blob)
        manifest["counts"][split] = len(samples)
        manifest["per_class"][split] = {c: sum(1 for _, label in samples if label == i) for i, c in enumerate(classes)}
        manifest["bytes"][split] = total
    (out / "manifest.json").write_text(json.dumps(manifest, indent=0))
    return manifest


def verify(folder=PACK) -> dict:
    """The manifest of the pack at `folder`, after checking that every file it lists is there with its checksum and
    that no photo was added; data.DataNotFound naming the command otherwise."""
    folder = Path(folder)
    how = "build it with `python -m banding_lib pack` (or `make pack`)"
    if not (folder / "manifest.json").exists():
        raise data.DataNotFound(f"no photo pack at {folder.resolve()} (no manifest.json): {how}")
    manifest = json.loads((folder / "manifest.json").read_text())
    bad = [name for name, digest in manifest["sha256"].items()
           if not (folder / name).exists() or hashlib.sha256((folder / name).read_bytes()).hexdigest()[:DIGEST] != digest]
    found = {p.relative_to(folder).as_posix() for split in ("train", "val") for p in (folder / split).rglob("*.jpg")}
    extra = sorted(found - set(manifest["sha256"]))
    if bad or extra:
        raise data.DataNotFound(f"the photo pack at {folder} does not match its manifest ({len(bad)} missing or "
                                f"damaged, e.g. {(bad or extra)[:3]}; {len(extra)} not listed): {how}")
    return manifest


def summary(manifest: dict) -> str:
    """One line: photos per split, classes, total MiB and KB a photo."""
    n, size = sum(manifest["counts"].values()), sum(manifest["bytes"].values())
    return (f"{manifest['counts']['train']} training + {manifest['counts']['val']} validation photos, "
            f"{len(manifest['classes'])} classes, {manifest['size']} px at JPEG quality {manifest['quality']}: "
            f"{size / 2 ** 20:.1f} MiB, {size / max(n, 1) / 1000:.1f} KB a photo")
