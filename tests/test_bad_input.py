"""Bad input gives one clear message and a non-zero exit, never a bare traceback. tests/BAD_INPUT.md lists
every case with its message; keep the two in step."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from banding_lib import data, metrics, reduce, results, train
from banding_lib.__main__ import main
from banding_lib.config import resolve, validate_params

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["--profile", "smoke", "--quiet"]




def cli_error(capsys, *argv) -> str:
    """Run the CLI in-process; it must exit non-zero and end stderr with one 'error: ...' line (after any
    progress bars), no traceback. Returns that line."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code != 0, err
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("error: ") and "Traceback" not in err, err
    return last


def photos(root: Path, per_class: int = 12, classes=("cat", "dog")) -> Path:
    """root/{train,val}/<class>/<i>.jpg, tiny photos."""
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(root / split / c / f"{i}.jpg")
    return root


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    return train.train(resolve("baseline", "smoke", 0, steps=2, log_every=1), root, progress=False)


# --- data ---

def test_missing_data_folder(capsys, tmp_path):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path / 'nowhere'}")
    assert f"data set '{tmp_path / 'nowhere'}' is neither a known name (imagenette2-160" in err


def test_missing_imagenette_says_where_to_put_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download_imagenette", lambda *a: None)  # as offline, without the network
    err = cli_error(capsys, "train", "baseline", "--profile", "cpu", "--data", tmp_path)
    assert f"no 'imagenette2-160' train split at {tmp_path / 'imagenette2-160' / 'train'}" in err
    assert "https://github.com/fastai/imagenette" in err and "BANDING_DATA" in err


def test_empty_data_folder(capsys, tmp_path):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path}")
    assert f"{tmp_path} has no class subfolders: expected {tmp_path}/<class>/<image>.jpg" in err


def test_data_folder_without_class_subfolders(capsys, tmp_path):
    for split in ("train", "val"):  # images straight in the split folders
        (tmp_path / split).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / split / "a.jpg")
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path}")
    assert f"{tmp_path / 'train'} has no class subfolders" in err and "ImageFolder layout" in err


def test_class_folders_without_images(capsys, tmp_path):
    for split in ("train", "val"):
        (tmp_path / split / "cat").mkdir(parents=True)
        (tmp_path / split / "cat" / "notes.txt").write_text("no photo")
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path}")
    assert f"{tmp_path / 'train'} has class folders (cat...) but no images with extensions .jpg" in err


def test_unreadable_image(capsys, tmp_path):
    photos(tmp_path)
    bad = tmp_path / "train" / "dog" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a JPEG")
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path}")
    assert f"cannot read image {bad}" in err and "delete or replace the file" in err


def test_fewer_images_than_one_batch(capsys, tmp_path):
    photos(tmp_path, per_class=3)  # 6 photos, smoke batch is 16: a step-limited plan would never fill
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", f"dataset={tmp_path}")
    assert "6 training images are fewer than one batch of 16" in err


@pytest.mark.parametrize("present, missing", [("train", "val"), ("val", "train")])
@pytest.mark.parametrize("how", ["--data", "--set dataset="])
def test_half_a_split_tree_is_named_and_nothing_is_downloaded(capsys, tmp_path, monkeypatch, present, missing, how):
    monkeypatch.setattr(data, "_download_imagenette", lambda *a: pytest.fail("downloaded into the user's folder"))
    (tmp_path / present / "cat").mkdir(parents=True)
    where = ["--profile", "cpu", "--data", tmp_path] if how == "--data" else [*SMOKE, "--set", f"dataset={tmp_path}"]
    err = cli_error(capsys, "train", "baseline", *where)
    assert (f"{tmp_path} has {present}/ but no {missing}/: expected {tmp_path}/train/<class>/<image>.jpg and "
            f"{tmp_path}/val/<class>/<image>.jpg (ImageFolder layout, one folder per class)") in err
    assert [p.name for p in tmp_path.iterdir()] == [present]  # the user's folder is left as it was


def test_a_photo_folder_trains(tmp_path):
    # the valid neighbour of the cases above: the same layout with enough readable photos trains
    photos(tmp_path, per_class=16)
    folder = train.train(resolve("baseline", "smoke", 0, dataset=str(tmp_path), steps=2, log_every=1),
                         tmp_path / "results", progress=False)
    assert results.load_run(folder).metrics["num_classes"] == 2


# --- names ---

def test_unknown_preset(capsys):
    err = cli_error(capsys, "train", "basline", *SMOKE)
    assert "unknown preset 'basline' (did you mean baseline or vgg19_baseline or tin10_baseline?); valid presets: baseline, rotated," in err


def test_unknown_profile(capsys):
    err = cli_error(capsys, "train", "baseline", "--profile", "fast")
    assert "unknown profile 'fast'; valid profiles: smoke, cpu, gpu-small, gpu" in err


def test_unknown_model_for_scan(capsys):
    err = cli_error(capsys, "scan", "resnet5")
    assert "unknown architecture 'resnet5': did you mean 'resnet50'" in err
    assert err.endswith("valid: googlenet, resnet50, vgg19, alexnet")


def test_unknown_layer_lists_the_valid_ones(capsys, finished_run):
    err = cli_error(capsys, "scan", "--run", finished_run, "--layer", "block5.c")
    assert "no layer 'block5.c' in Sequential: did you mean 'block5.b', 'block5.a'" in err
    assert "conv/linear layers are: block0.a.conv, block1.a.conv," in err


def test_known_layer_scans(capsys, finished_run):
    assert main(["scan", "--run", str(finished_run), "--layer", "block5.b"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "shape", "row", "col", "null"] and [l.split()[0] for l in lines[1:]] == [
        "block5.b.conv"]


def test_unknown_override(capsys):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", "stepz=3")
    assert "unknown override 'stepz'; valid: Profile fields amp, batch_size," in err and "model keywords" in err


def test_override_of_the_wrong_type(capsys):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", "steps=many")
    assert "override steps='many' is a str; expected int" in err


def test_override_of_a_bool_for_a_number(capsys):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", "steps=true")
    assert "override steps=True is a bool; expected int" in err


@pytest.mark.parametrize("override, rule", [
    ("steps=-5", "steps must be >= 0 (0: train for `epochs` epochs); the smoke profile uses steps=12"),
    ("batch_size=0", "batch_size must be >= 1; the smoke profile uses batch_size=16"),
    ("lr=0", "lr must be > 0"), ("lr=-0.1", "lr must be > 0"), ("epochs=-1", "epochs must be >= 0"),
    ("warmup=-1", "warmup must be >= 0"), ("weight_decay=-0.1", "weight_decay must be >= 0"),
    ("log_every=0", "log_every must be >= 1"), ("checkpoint_every=0", "checkpoint_every must be >= 1"),
    ("val_subset=0", "val_subset must be >= 1"), ("momentum=1", "momentum must be > 0 and < 1"),
    ("label_smoothing=1", "label_smoothing must be >= 0 and < 1"), ("image_size=0", "image_size must be >= 1"),
])
def test_override_out_of_range(capsys, override, rule):
    # steps=-5 made an endless loop (the plan grew until memory ran out), batch_size=0 a division by zero
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", override)
    assert f"error: override {override} is out of range: {rule}" in err


def test_overrides_at_the_edge_of_their_range_resolve():
    edge = dict(steps=0, epochs=1, batch_size=1, lr=1e-9, warmup=0, weight_decay=0.0, log_every=1, checkpoint_every=1,
                val_subset=1, momentum=0.5, label_smoothing=0.0, threads=0, workers=0)
    assert {k: resolve("baseline", "smoke", 0, **edge)["train"][k] for k in edge} == edge


def test_set_without_equals(capsys):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--set", "steps")
    assert "--set takes KEY=VALUE, got 'steps'" in err


# --- notebook parameters (papermill) ---

@pytest.mark.parametrize("params, message", [
    (dict(seeds="[0, 1]"), "notebook parameter 'seeds' is str '[0, 1]'; expected list of int, e.g. [0, 1, 2] "
                           "(papermill -p passes text; give lists with -y"),
    (dict(seeds=0), "notebook parameter 'seeds' is int 0; expected list of int"),
    (dict(seeds=[0, 1.5]), "notebook parameter 'seeds' is list [0, 1.5]; expected list of int"),
    (dict(profile=1), "notebook parameter 'profile' is int 1; expected str, one of smoke, cpu, gpu"),
    (dict(runs="baseline"), "notebook parameter 'runs' is str 'baseline'; expected list of str (preset names)"),
    (dict(seed=True), "notebook parameter 'seed' is bool True; expected int"),
    (dict(colour="red"), "unknown notebook parameter 'colour'; known: profile, seed, seeds, runs"),
])
def test_notebook_parameter_of_the_wrong_type(params, message):
    with pytest.raises(TypeError) as err:
        validate_params(**params)
    assert str(err.value).startswith(message), str(err.value)


@pytest.mark.parametrize("params, message", [
    (dict(profile="fast"), "unknown profile 'fast'; valid profiles: smoke, cpu, gpu-small, gpu"),
    (dict(runs=["baseline", "rotatd"]), "notebook parameter 'runs': unknown preset 'rotatd'; valid presets: baseline"),
])
def test_notebook_parameter_of_an_unknown_value(params, message):
    with pytest.raises(ValueError) as err:
        validate_params(**params)
    assert str(err.value).startswith(message)


def test_good_notebook_parameters_pass():
    params = dict(profile="smoke", seeds=[0, 1], runs=["baseline", "rotated"], results_root=None)
    assert validate_params(**params) == params


# --- weights handed to the reduction and the score ---

@pytest.mark.parametrize("shape", [(16, 25), (16, 8, 25), (2, 16, 8, 5, 5)])
def test_reduction_of_a_weight_that_is_not_4d(shape):
    with pytest.raises(ValueError, match=r"expected a conv weight shaped \(out, in, kh, kw\), got shape "
                                         + r"\(" + ", ".join(map(str, shape)) + r"\)"):
        reduce.reduce_weight(torch.randn(shape))


def test_reduction_of_an_all_zero_layer():
    with pytest.raises(ValueError, match="every kernel of this layer is zero: nothing to reduce"):
        reduce.reduce_weight(torch.zeros(8, 4, 5, 5))


def test_reduction_of_a_diverged_layer():
    w = torch.randn(8, 4, 5, 5)
    w[3, 1, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="the weight holds NaN or Inf values"):
        reduce.reduce_weight(w)


def test_score_of_an_all_zero_layer():
    with pytest.raises(ValueError, match=r"every kernel of this layer is constant \(zero variance\)"):
        metrics.score(torch.zeros(8, 4, 5, 5))


# --- results folders ---

def test_results_from_an_incompatible_version(capsys, finished_run, tmp_path):
    folder = tmp_path / finished_run.name
    shutil.copytree(finished_run, folder)
    m = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**m, "format": results.FORMAT + 1}))
    err = cli_error(capsys, "scan", "--run", folder)
    assert (f"{folder} was written by an incompatible version of banding_lib (format {results.FORMAT + 1}, "
            f"this version reads {results.FORMAT}); delete it to retrain") in err


def test_results_folder_of_an_unfinished_run(capsys, tmp_path):
    err = cli_error(capsys, "scan", "--run", tmp_path)
    assert f"{tmp_path} holds no finished run (no metrics.json); train it first" in err


def test_diverged_training(capsys, tmp_path):
    err = cli_error(capsys, "train", "baseline", *SMOKE, "--results", tmp_path, "--set", "lr=1e10")
    assert re.search(r"error: (loss is nan|the weights hold NaN or Inf) at step \d+ of run baseline-smoke-s0-", err)
    assert "last good checkpoint: " in err and "Lower the LR or check the data." in err


# --- the real command line, as a user runs it ---

@pytest.mark.parametrize("argv, message", [
    (["train", "basline", *SMOKE], "error: unknown preset 'basline'"),
    (["train", "baseline", *SMOKE, "--set", "dataset=/no/such/folder"], "error: data set '/no/such/folder' is neither"),
    (["train", "baseline", *SMOKE, "--set", "steps=-5"], "error: override steps=-5 is out of range"),  # was endless
])
def test_the_command_line_exits_2_with_one_message(argv, message):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "banding_lib", *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message) and "Traceback" not in proc.stderr, proc.stderr


# --- where the photos are ---

def test_data_that_does_not_exist_names_the_flag(capsys, tmp_path):
    err = cli_error(capsys, "train", "baseline", "--profile", "cpu", "--data", tmp_path / "nowhere")
    assert f"--data {tmp_path / 'nowhere'}: no such folder" in err and "train/ and val/" in err


def test_data_accepts_an_image_folder_tree_and_quiet_is_quiet(capsys, tmp_path):
    photos(tmp_path / "my_photos", per_class=16)  # train/ and val/ inside: the photos themselves
    argv = ["train", "baseline", "--profile", "cpu", "--data", tmp_path / "my_photos", "--results", tmp_path / "r",
            "--quiet", "--set", "steps=2", "--set", "batch_size=8", "--set", "log_every=1", "--set", "width=0.0625"]
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr()
    assert out.err == "" and "decode" not in out.out  # no progress bars, training or decoding
    (metrics,) = (tmp_path / "r").glob("*/metrics.json")  # the one finished run
    run = results.load_run(metrics.parent)
    assert run.config["data"]["dataset"] == str(tmp_path / "my_photos") and run.metrics["num_classes"] == 2


def test_the_default_data_location_is_the_checkouts_and_a_failed_download_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("BANDING_DATA", raising=False)
    monkeypatch.setattr(data, "CHECKOUT", tmp_path / "checkout")
    assert data.data_root() == tmp_path / "checkout" / "data"  # neither data/ nor ../shared/data exists
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert data.data_root() == tmp_path / "shared" / "data"  # this project's machines
    (tmp_path / "checkout" / "data").mkdir(parents=True)
    assert data.data_root() == tmp_path / "checkout" / "data"  # the checkout's own wins
    offline = tmp_path / "offline"
    monkeypatch.setattr("torchvision.datasets.Imagenette.__init__", lambda *a, **k: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(data.DataNotFound, match="https://github.com/fastai/imagenette"):
        data.split_folder("imagenette2-160", "train", offline)
    assert not offline.exists()  # the failed download left no empty folder behind
