"""The run at the article's scale, everything of it a CPU can hold: the photo pack (banding_lib.pack), the command's
rehearsal end to end without pandas or altair (benchmarks/gpu_science.py), its rows against the scores step's, the
GPU-resident data path's CPU side, and the book's section with and without results (banding_lib.gpu_results)."""
import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from banding_lib import data, gpu_results, pack, scores, train, verdict
from conftest import ROOT, fake_run, fake_scores

spec = importlib.util.spec_from_file_location("gpu_science", ROOT / "benchmarks" / "gpu_science.py")
gpu_science = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_science)


def photo_tree(folder: Path, n: int = 200, size: int = 48) -> Path:
    """A tiny ImageFolder tree of synthetic scenes as JPEGs, every fifth in val/."""
    x, y = data.synthetic_images(n, size, seed=0)
    for i, (img, label) in enumerate(zip(x, y)):
        d = folder / ("val" if i % 5 == 0 else "train") / f"c{int(label)}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(d / f"p{i}.jpg", quality=90)
    return folder


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pack")
    pack.write_pack(str(photo_tree(folder / "photos")), folder / "pack", size=32, val=20, progress=False)
    return folder / "pack"


def test_the_pack_is_a_photo_tree_with_its_manifest(tiny_pack, tmp_path):
    manifest = pack.verify(tiny_pack)
    assert manifest["counts"] == {"train": 160, "val": 20} and manifest["size"] == 32 and manifest["quality"] == 75
    assert manifest["classes"] == sorted(p.name for p in (tiny_pack / "train").iterdir())
    assert sum(manifest["per_class"]["val"].values()) == 20 and max(manifest["per_class"]["val"].values()) <= 3
    assert len(manifest["sha256"]) == 180 and sum(manifest["bytes"].values()) == sum(
        (tiny_pack / name).stat().st_size for name in manifest["sha256"])
    # the ordinary --data path reads it: a split tree, decoded at the pack's size
    assert data.is_split_tree(tiny_pack)
    images, labels, classes = data.decode_split(data.split_folder(str(tiny_pack), "train"), 32, cache=False,
                                                progress=False)
    assert images.shape == (160, 3, 32, 32) and classes == manifest["classes"]
    first = sorted(manifest["sha256"])[0]
    (tiny_pack / first).write_bytes(b"not a photo")  # a damaged copy is named, not trained on
    with pytest.raises(data.DataNotFound, match="does not match its manifest"):
        pack.verify(tiny_pack)
    (tiny_pack / first).unlink()
    pack.write_pack(str(tiny_pack.parent / "photos"), tiny_pack, size=32, val=20, progress=False)  # replaced whole
    assert pack.verify(tiny_pack)["counts"]["train"] == 160


def test_pack_command_writes_a_pack_and_never_replaces_other_folders(tiny_pack, tmp_path, capsys):
    from banding_lib.__main__ import main

    photos = str(tiny_pack.parent / "photos")
    assert main(["pack", "--dataset", photos, "--out", str(tmp_path / "p"), "--size", "24", "--val", "10", "--quiet"]) == 0
    assert "160 training + 10 validation photos, 10 classes, 24 px" in capsys.readouterr().out
    assert pack.verify(tmp_path / "p")["counts"] == {"train": 160, "val": 10}
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep")
    assert main(["pack", "--dataset", photos, "--out", str(tmp_path / "mine"), "--quiet"]) == 2
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep"


def test_rehearsal_end_to_end_without_pandas_or_altair(tiny_pack, tmp_path):
    """The GPU command's own code path on the CPU, at a tiny size, in a Python that cannot import pandas or
    altair (the GPU's has neither of this repository's versions): the plan prints before training, and --out
    holds at most 8 files: the scores in book/scores.csv's schema, the curves, a PNG a run, the JSON."""
    out = tmp_path / "out"
    argv = [str(ROOT / "benchmarks" / "gpu_science.py"), "--rehearse", "--out", str(out), "--pack", str(tiny_pack),
            "--results", str(tmp_path / "runs")]
    code = ("import sys, runpy; sys.modules.update(pandas=None, altair=None); "
            f"sys.argv = {argv!r}; runpy.run_path(sys.argv[0], run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.index("plan: 5 runs x") < proc.stdout.index("baseline-s0: val.")
    names = sorted(p.name for p in out.iterdir())
    pngs = [f"nmf-{p}-s{s}.png" for p, s in gpu_science.RUNS]
    assert names == sorted(["scores.csv", "curves.csv", "gpu_science.json", *pngs]) and len(names) <= 8
    with open(out / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == scores.COLUMNS
    assert {(r["preset"], int(r["seed"])) for r in rows} == set(gpu_science.RUNS)
    assert {(r["layer"], r["kind"]) for r in rows if r["kind"] == "NMF"} == {("block5.a", "NMF"), ("block5.b", "NMF")}
    report = json.loads((out / "gpu_science.json").read_text())
    assert report["rehearsal"] and len(report["runs"]) == 5 and not report["skipped"]
    assert report["plan"]["epochs"] >= 1 and "floor(" in report["plan"]["how"] and report["wall_s"] > 0
    assert set(report["warm_up"]["img_per_s"]) == {"device", "host"} and report["img_per_s"] > 0
    assert {"mfu", "peak_memory_gib", "compile"} <= set(report) and report["provenance"]["torch"] == torch.__version__
    with open(out / "curves.csv", newline="") as f:
        assert {(r["preset"], int(r["seed"])) for r in csv.DictReader(f)} == set(gpu_science.RUNS)
    assert Image.open(out / pngs[0]).size[0] >= 64
    # the book's section reads the same folder
    text = gpu_results.section(out)
    assert "CPU rehearsal" in text and text.count("| inconclusive |") + text.count("| reproduced |") + \
        text.count("| not reproduced |") + text.count("| at threshold |") == 6


def test_the_section_without_results_gives_the_command(tmp_path):
    text = gpu_results.section(tmp_path / "none")
    assert text.startswith("## At the article's scale\n") and gpu_results.COMMAND in text
    assert len(text.strip().splitlines()) == 3  # the heading, a blank line, one line


def test_the_section_grades_as_the_verdict(tmp_path):
    runs = [fake_run(p, s) for p, s in gpu_science.RUNS]
    frame = fake_scores(runs)
    scores.write(frame, tmp_path / "scores.csv")
    (tmp_path / "gpu_science.json").write_text(json.dumps({"learned_at": 0.7, "runs": [{}] * 5, "wall_s": 300.0}))
    text = gpu_results.section(tmp_path, level=3)
    expected = verdict.table(frame)
    expected = expected[expected.grade != "not graded"]
    assert text.startswith("### At the article's scale") and len(expected) == 6
    for _, row in expected.iterrows():  # each claim's own line carries its own grade
        line = next(ln for ln in text.splitlines() if f"| {row['run, layer']} |" in ln and row["the article"] in ln)
        assert f"| {row['grade']} |" in line
    assert "rehearsal" not in text


def test_in_memory_splits_move_whole_and_stay_put_off_cuda():
    x, y = data.synthetic_images(24, 16)
    source = data.InMemory(x, y, 10)
    moved = source.to("cpu")
    for (a, la), (b, lb) in zip(source.epoch(8, seed=1), moved.epoch(8, seed=1)):
        assert torch.equal(a, b) and torch.equal(la, lb)
    assert train._resident(source, None) is source and train._resident(source, torch.device("cpu")) is source
