"""The second photo set, `tin10-objects`: ten object classes of Tiny-ImageNet (Le & Yang, Stanford CS231n, 2015;
64-px photos, 500 training and 50 validation photos a class), cut out of the official zip into the ImageFolder
layout the book reads (`tin10-objects/{train,val}/<wnid>/*.JPEG`). On this project's machines it lies ready under
the data root; elsewhere `data.split_folder` fetches the zip (about 240 MB) when online and calls `extract`.
"""
from __future__ import annotations

import shutil
import urllib.request
import zipfile
from pathlib import Path

NAME = "tin10-objects"
URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
# goldfish, tabby cat, ladybug, monarch butterfly, basketball, sunglasses, teapot, mushroom, lemon, pizza: object
# classes that are neither in Imagenette nor scenes
WNIDS = ("n01443537", "n02123045", "n02165456", "n02279972", "n02802426", "n04356056", "n04398044", "n07734744",
         "n07749582", "n07873807")


def extract(zip_path: Path, out: Path) -> Path:
    """Write WNIDS' training photos and validation photos from Tiny-ImageNet's zip into out/{train,val}/<wnid>/;
    written into a temporary folder first and renamed, so a failure leaves no half-made set. Returns `out`."""
    out, tmp = Path(out), Path(str(out) + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        top = names[0].split("/")[0]  # "tiny-imagenet-200"
        annotations = z.read(f"{top}/val/val_annotations.txt").decode().splitlines()
        val_class = {line.split("\t")[0]: line.split("\t")[1] for line in annotations if line.strip()}
        for name in names:
            parts = name.split("/")
            if name.endswith(".JPEG") and parts[1] == "train" and parts[2] in WNIDS:
                target = tmp / "train" / parts[2] / parts[-1]
            elif name.endswith(".JPEG") and parts[1] == "val" and val_class.get(parts[-1]) in WNIDS:
                target = tmp / "val" / val_class[parts[-1]] / parts[-1]
            else:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
    missing = [w for w in WNIDS for split in ("train", "val") if not (tmp / split / w).is_dir()]
    if missing:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ValueError(f"{zip_path} is not Tiny-ImageNet's zip: no photos of {', '.join(sorted(set(missing)))}")
    tmp.rename(out)
    return out


def download(base: Path) -> None:
    """Fetch Tiny-ImageNet's zip into base/ and extract tin10-objects there; offline, say so and leave nothing."""
    base = Path(base)
    zip_path = base / "tiny-imagenet-200.zip"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if not zip_path.exists():
            urllib.request.urlretrieve(URL, str(zip_path) + ".part")
            Path(str(zip_path) + ".part").rename(zip_path)
        extract(zip_path, base / NAME)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        print(f"[banding_lib] could not download {NAME} into {base} ({type(err).__name__}: {err})")
        Path(str(zip_path) + ".part").unlink(missing_ok=True)
