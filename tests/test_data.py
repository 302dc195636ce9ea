import os

import numpy as np
import pytest
import torch
from PIL import Image

from banding_lib import data


@pytest.fixture
def photo_tree(tmp_path):
    """train/{cat,dog}: 3 + 2 tiny JPEGs of 40x30, one greyscale, one PNG; the top half bright."""
    root = tmp_path / "photos"
    for cls, n in (("cat", 3), ("dog", 2)):
        (root / "train" / cls).mkdir(parents=True)
        for i in range(n):
            a = np.zeros((30, 40, 3), np.uint8)
            a[:15] = 200  # bright top half
            a[:, :, 2] = 40 * (cls == "dog")
            img = Image.fromarray(a)
            if cls == "cat" and i == 0:
                img = img.convert("L")  # greyscale source
            img.save(root / "train" / cls / f"{i}.{'png' if i == 2 else 'jpg'}")
    (root / "train" / "cat" / "notes.txt").write_text("not an image")
    return root


def test_image_folder_yields_rgb_of_the_asked_size(photo_tree):
    ds = data.ImageFolderSet(photo_tree / "train", size=16)
    assert ds.classes == ["cat", "dog"] and len(ds) == 5
    labels = [ds[i][1] for i in range(len(ds))]
    assert labels == [0, 0, 0, 1, 1]
    for i in range(len(ds)):
        x, _ = ds[i]
        assert x.dtype == torch.uint8 and x.shape == (3, 16, 16)
    grey, _ = ds[0]
    assert torch.equal(grey[0], grey[1])  # greyscale became 3 equal channels
    assert grey[:, :6].float().mean() > 150 and grey[:, -6:].float().mean() < 50  # top stays on top


def test_split_folder_accepts_paths_and_names(photo_tree, monkeypatch):
    with pytest.raises(data.DataNotFound, match="has train/ but no val/"):  # half a tree (tests/test_bad_input.py)
        data.split_folder(str(photo_tree), "val")
    (photo_tree / "val").symlink_to(photo_tree / "train")
    assert data.split_folder(str(photo_tree)) == photo_tree / "train"
    assert data.split_folder(str(photo_tree), "val") == photo_tree / "val"
    assert data.split_folder(str(photo_tree / "train" / "..")).name == "train"
    assert data.split_folder(str(photo_tree / "train")) == photo_tree / "train"  # no train/ inside: the classes
    monkeypatch.setenv("BANDING_DATA", str(photo_tree.parent))
    (photo_tree.parent / "imagenette2-160").symlink_to(photo_tree)
    assert data.split_folder("imagenette2-160", "train") == photo_tree.parent / "imagenette2-160" / "train"
    assert data.split_folder("photos", "val") == photo_tree / "val"  # another set by name under the data root
    with pytest.raises(data.DataNotFound, match="nor a folder with train/ and val/ under the data root"):
        data.split_folder("no-such-set", "val")


def test_missing_data_gives_the_documented_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BANDING_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFound) as err:
        data.split_folder("imagenette2-160", "val", download=False)
    msg = str(err.value)
    assert str((tmp_path / "nowhere" / "imagenette2-160" / "val").resolve()) in msg and "BANDING_DATA" in msg
    with pytest.raises(data.DataNotFound, match="known name"):
        data.split_folder(str(tmp_path / "missing_folder"))


def test_offline_download_fails_with_the_documented_error(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torchvision.datasets, "Imagenette", offline)
    with pytest.raises(data.DataNotFound, match="point BANDING_DATA"):
        data.split_folder("imagenette2-160", "train", root=tmp_path)


def test_folders_without_classes_or_images(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / "a.jpg")
    with pytest.raises(data.DataNotFound, match="no class subfolders"):
        data.list_images(tmp_path / "flat")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(data.DataNotFound, match="no images"):
        data.list_images(tmp_path / "empty")


def test_unreadable_image_names_the_file(photo_tree):
    bad = photo_tree / "train" / "dog" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(data.BadImage, match="broken.jpg"):
        data.decode_split(photo_tree / "train", 16, progress=False)


def test_decode_cache_is_reused_and_invalidated(photo_tree):
    folder = photo_tree / "train"
    x, y, classes = data.decode_split(folder, 12, progress=False)
    assert x.shape == (5, 3, 12, 12) and y.tolist() == [0, 0, 0, 1, 1]
    cached = list(data.cache_dir().glob("photos-train-12px-*.pt"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    x2, _, _ = data.decode_split(folder, 12, progress=False)
    assert torch.equal(x, x2) and cached[0].stat().st_mtime_ns == mtime  # read, not rewritten
    Image.new("RGB", (20, 20), (255, 0, 0)).save(folder / "dog" / "new.jpg")
    x3, y3, _ = data.decode_split(folder, 12, progress=False)
    assert len(x3) == 6 and len(list(data.cache_dir().glob("photos-train-12px-*.pt"))) == 2
    cached[0].write_bytes(b"truncated")  # a corrupt cache file is rebuilt, not trusted
    os.utime(folder / "dog" / "new.jpg")  # (and the new file list keys another entry anyway)
    x4, _, _ = data.decode_split(folder, 12, progress=False)
    assert len(x4) == 6


def test_in_memory_batches_shard_one_permutation_and_resume_mid_epoch():
    x, y = torch.arange(10)[:, None], torch.arange(10)
    split = data.InMemory(x, y, 10)
    seen = [b[1] for r in range(2) for b in split.epoch(3, seed=1, rank=r, world=2, drop_last=False)]
    assert sorted(torch.cat(seen).tolist()) == list(range(10))
    assert [len(b[1]) for b in split.epoch(4, shuffle=False)] == [4, 4]
    whole = [b[1].tolist() for b in split.epoch(2, seed=3, epoch=1)]
    assert [b[1].tolist() for b in split.epoch(2, seed=3, epoch=1, skip=2)] == whole[2:]
    # torch's DistributedSampler order: one permutation of seed * 1000 + epoch
    assert sum(whole, []) == torch.randperm(10, generator=torch.Generator().manual_seed(3001)).tolist()


def imagenet_tree(root, per_class=(6, 2), classes=("n01440764", "n02102040", "n02979186"), corrupt=True):
    """An ImageNet-layout tree: train/ and val/ wnid folders of JPEGs of mixed sizes (and one PNG), a
    greyscale and a CMYK JPEG, and (corrupt=True) one file that is not an image though named .JPEG."""
    rng = np.random.default_rng(0)
    for split, n in zip(("train", "val"), per_class):
        for k, wnid in enumerate(classes):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for i in range(n):
                h, w = (int(v) for v in rng.integers(24, 90, 2))
                img = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
                img = img.convert("L") if i == 1 else img.convert("CMYK") if i == 2 else img
                img.save(folder / f"{wnid}_{i}.{'png' if i == 3 else 'JPEG'}")
    if corrupt:
        (root / "train" / classes[0] / "broken.JPEG").write_bytes(b"\xff\xd8 not a JPEG at all")
    return root


def test_stream_reads_mixed_photos_skips_a_corrupt_one_and_follows_the_same_order(tmp_path):
    tree = imagenet_tree(tmp_path / "in")
    stream = data.Stream(tree / "train", 32, workers=0)
    assert len(stream) == 19 and stream.num_classes == 3
    with pytest.warns(UserWarning, match="broken.JPEG"):
        batches = list(stream.epoch(4, seed=1, epoch=2, drop_last=False))
    images = torch.cat([b[0] for b in batches])
    assert images.dtype == torch.uint8 and images.shape == (18, 3, 32, 32)  # 19 files, the corrupt one skipped
    order = data.epoch_order(19, 1, 2)
    expected = [int(stream.labels[i]) for i in order if stream.set.samples[i][0].name != "broken.JPEG"]
    assert torch.cat([b[1] for b in batches]).tolist() == expected  # the in-memory order, as DistributedSampler
    with pytest.warns(UserWarning):  # resume: from the second batch on, the same batches
        tail = list(stream.epoch(4, seed=1, epoch=2, drop_last=False, skip=1))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(tail, batches[1:])) and len(tail) == len(batches) - 1
    assert torch.equal(images[0], data.load_image(stream.set.samples[order[0]][0], 32))  # the in-memory decoder


def test_stream_with_worker_processes_and_decoding_in_batches(tmp_path):
    tree = imagenet_tree(tmp_path / "in", corrupt=False)
    one = list(data.Stream(tree / "train", 32, workers=0).epoch(6, seed=0))
    two = list(data.Stream(tree / "train", 32, workers=2).epoch(6, seed=0))
    batched = list(data.Stream(tree / "train", 32, workers=2, decode="device").epoch(6, seed=0, device=torch.device("cpu")))
    for a, b, c in zip(one, two, batched):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], c[1]) and c[0].shape == a[0].shape
    # batched decoding: each photo as torchvision.io decodes it, fitted on the device (PNG, grey, CMYK included)
    from torchvision.io import ImageReadMode, decode_image, read_file

    files = [p for p, _ in data.ImageFolderSet(tree / "train", 32).samples]
    order = data.epoch_order(len(files), 0, 0)
    expected = [data.fit(decode_image(read_file(str(files[i])), mode=ImageReadMode.RGB), 32) for i in order[:6]]
    assert torch.equal(batched[0][0], torch.stack(expected))
    with pytest.warns(UserWarning, match="broken.JPEG"):  # a corrupt file is named on this path too
        broken = tree / "train" / "n01440764" / "broken.JPEG"
        broken.write_bytes(b"\xff\xd8 not a JPEG at all")
        images = data.decode_batch([(str(broken), broken.read_bytes()), (str(files[0]), files[0].read_bytes())], 32, "cpu")
    assert images.shape == (1, 3, 32, 32)
    sub = data.Stream(tree / "val", 16).subset([0, 3])
    assert len(sub) == 2 and sub.labels.tolist() == [0, 1]


def test_batched_decoding_hides_torchvisions_deprecation_there_only(tmp_path):
    import io
    import subprocess
    import sys
    import warnings
    from pathlib import Path

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    filters = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, torchvision's DeprecationWarning included, fails the call
        images = data.decode_batch([("red.jpg", buf.getvalue())], 16, "cpu")
    assert images.shape == (1, 3, 16, 16) and images[0, 0].float().mean() > 150
    assert warnings.filters == filters  # the filter is not left behind
    check = ("import warnings, torchvision; import banding_lib.data; "  # torch and numpy add filters of their own
             "assert not [f for f in warnings.filters if f[1] and 'TorchVision' in f[1].pattern]")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).resolve().parent.parent)


def test_stratified_subset_takes_every_class_alike():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)  # sorted by class, as ImageFolder lists them
    idx = data.stratified_subset(labels, 30)
    assert torch.bincount(labels[idx]).tolist() == [10, 10, 10]
    assert torch.equal(idx, data.stratified_subset(labels, 30))  # fixed
    assert len(data.stratified_subset(labels, 1000)) == 100


def _fake_tiny_imagenet(path, wnids):
    """A zip in Tiny-ImageNet's layout: train/<wnid>/images/*.JPEG, val/images/*.JPEG with val_annotations.txt."""
    import io
    import zipfile

    def jpeg(i):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 8, 3), i * 20, np.uint8)).save(buf, format="JPEG")
        return buf.getvalue()

    with zipfile.ZipFile(path, "w") as z:
        notes = []
        for i, w in enumerate(wnids):
            z.writestr(f"tiny-imagenet-200/train/{w}/images/{w}_0.JPEG", jpeg(i))
            z.writestr(f"tiny-imagenet-200/val/images/val_{i}.JPEG", jpeg(i))
            notes.append(f"val_{i}.JPEG\t{w}\t0\t0\t8\t8")
        z.writestr("tiny-imagenet-200/train/n99999999/images/other.JPEG", jpeg(0))  # a class not taken
        z.writestr("tiny-imagenet-200/val/val_annotations.txt", "\n".join(notes))
    return path


def test_tin10_is_cut_out_of_tiny_imagenets_zip_and_found_by_name(tmp_path, monkeypatch):
    from banding_lib import tin10

    out = tin10.extract(_fake_tiny_imagenet(tmp_path / "t.zip", tin10.WNIDS), tmp_path / "tin10-objects")
    assert sorted(p.name for p in (out / "train").iterdir()) == sorted(tin10.WNIDS)
    assert (out / "val" / tin10.WNIDS[3] / "val_3.JPEG").is_file() and not (out / "train" / "n99999999").exists()
    monkeypatch.setenv("BANDING_DATA", str(tmp_path))
    assert data.split_folder("tin10-objects", "val") == out / "val"
    with pytest.raises(ValueError, match="not Tiny-ImageNet's zip"):
        tin10.extract(_fake_tiny_imagenet(tmp_path / "u.zip", tin10.WNIDS[:3]), tmp_path / "other")
    assert not (tmp_path / "other").exists() and not (tmp_path / "other.partial").exists()


def test_a_missing_tin10_offline_says_how_to_make_it(tmp_path, monkeypatch):
    from banding_lib import tin10

    monkeypatch.setattr(tin10.urllib.request, "urlretrieve", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(data.DataNotFound, match="tiny-imagenet-200.zip"):
        data.split_folder("tin10-objects", "train", root=tmp_path / "data")
    assert not any((tmp_path / "data").rglob("*.part"))
