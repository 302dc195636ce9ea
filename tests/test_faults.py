"""Faults during training: a killed run resumes, corrupt files are reported and kept, concurrent runs of one
config train once, and a diverging run stops with a message naming the step and the last good checkpoint."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from banding_lib import results, train
from banding_lib.config import resolve

REPO = Path(__file__).resolve().parents[1]
LONG = dict(steps=30, checkpoint_every=5, log_every=5)  # a few seconds of smoke training
LONG_ARGS = [arg for k, v in LONG.items() for arg in ("--set", f"{k}={v}")]




def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    return env


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "banding_lib", *args]


# --- SIGKILL at a random step ---

_STEP_PRINTER = textwrap.dedent("""
    # `python -m banding_lib ...` that prints "step N" (N = steps completed) as each training step starts.
    import sys
    from banding_lib import augment as augmentation
    augment, done = augmentation.augment, [0]

    def counting(*args, train, **kwargs):
        if train:
            print("step", done[0], flush=True)
            done[0] += 1
        return augment(*args, train=train, **kwargs)

    augmentation.augment = counting
    from banding_lib.__main__ import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigkill_at_a_random_step_resumes_to_the_uninterrupted_weights(tmp_path):
    config = resolve("baseline", "smoke", 0, **LONG)
    kill_at = random.randrange(LONG["checkpoint_every"] + 1, LONG["steps"] - 1)
    driver = tmp_path / "step_printer.py"
    driver.write_text(_STEP_PRINTER)
    args = ["train", "baseline", "--profile", "smoke", "--results", str(tmp_path / "killed"), "--quiet", *LONG_ARGS]
    proc = subprocess.Popen([sys.executable, str(driver), *args], cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                            text=True)
    try:
        for line in proc.stdout:
            if line.strip() == f"step {kill_at}":
                proc.send_signal(signal.SIGKILL)
                break
        last = kill_at
        for line in proc.stdout:  # anything printed before the signal landed
            if line.startswith("step "):
                last = int(line.split()[1])
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before step {kill_at}"
    folder = results.run_dir(config, tmp_path / "killed")
    assert not (folder / "metrics.json").exists()
    saved = results.load_torch(folder / "checkpoint.pt", "checkpoint")["step"]
    # at most one checkpoint interval lost (`last` steps were complete when it died)
    assert last - LONG["checkpoint_every"] <= saved <= last, (kill_at, last, saved)

    resumed = subprocess.run(_cli(*args), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.strip() == str(folder)
    whole = train.train(config, tmp_path / "whole", progress=False)
    for part in ("final", "init"):
        a, b = (results.load_torch(f / "weights.pt")[part] for f in (folder, whole))
        assert all(torch.equal(a[n], b[n]) for n in a), (part, kill_at)
    a, b = (results.load_torch(f / "model.pt") for f in (folder, whole))
    assert all(torch.equal(a[k], b[k]) for k in a), kill_at
    assert not (folder / "checkpoint.pt").exists()


# --- corrupt files ---

@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(config, results root) of one finished smoke run; tests copy it before damaging it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("finished")
    config = resolve("baseline", "smoke", 0, steps=4, log_every=2)
    train.train(config, root, progress=False)
    torch.set_num_threads(before)
    return config, root


def _copy(finished, tmp_path):
    config, root = finished
    shutil.copytree(root, tmp_path / "results")
    return config, tmp_path / "results", results.run_dir(config, tmp_path / "results")


def _truncate(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _scramble(path: Path):
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 64] = bytes(255 - b for b in raw[mid:mid + 64])
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", [_truncate, _scramble], ids=["truncated", "scrambled"])
@pytest.mark.parametrize("name", ["weights.pt", "model.pt", "metrics.json"])
def test_a_damaged_finished_run_is_reported_and_left_as_it_is(finished, tmp_path, name, damage):
    config, root, folder = _copy(finished, tmp_path)
    damage(folder / name)
    before = {f.name: f.read_bytes() for f in folder.iterdir()}
    with pytest.raises(results.CorruptResults, match=name.replace(".", r"\.")):
        results.load_run(folder)
    with pytest.raises(results.CorruptResults, match=name.replace(".", r"\.")):
        train.train(config, root, progress=False)  # never retrains over it, never reuses it
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before  # kept for inspection


@pytest.mark.parametrize("damage", [_truncate, _scramble], ids=["truncated", "scrambled"])
def test_a_damaged_checkpoint_is_reported_and_left_as_it_is(tmp_path, damage):
    config = resolve("baseline", "smoke", 0, steps=8, checkpoint_every=2, log_every=4)
    folder = train.train(config, tmp_path, progress=False, stop_after=5)
    damage(folder / "checkpoint.pt")
    before = (folder / "checkpoint.pt").read_bytes()
    with pytest.raises(results.CorruptResults, match=r"checkpoint\.pt"):
        train.train(config, tmp_path, progress=False)
    assert (folder / "checkpoint.pt").read_bytes() == before
    assert not (folder / "metrics.json").exists() and not (folder / "weights.pt").exists()


# --- two runs of one config at once ---

def test_two_runs_of_one_config_train_once(tmp_path):
    config = resolve("baseline", "smoke", 0, **LONG)
    folder = results.run_dir(config, tmp_path)
    args = _cli("train", "baseline", "--profile", "smoke", "--results", str(tmp_path), *LONG_ARGS)  # progress on
    procs = [subprocess.Popen(args, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    # Meanwhile read the folder as a notebook would: a run is either not finished or whole, never half-written.
    reads = 0
    while any(p.poll() is None for p in procs):
        try:
            results.load_run(folder)
            reads += 1
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == [str(folder)] * 2
    # exactly one of them trained: it alone shows a progress bar, and metrics.json names its pid
    trained = [i for i, (_, err) in enumerate(outs) if "baseline s0" in err]
    assert len(trained) == 1, [err[-500:] for _, err in outs]
    run = results.load_run(folder)
    assert run.metrics["provenance"]["pid"] == procs[trained[0]].pid
    assert run.metrics["steps"] == LONG["steps"] and len(run.metrics["history"]) == LONG["steps"] // LONG["log_every"]
    leftovers = [f.name for f in folder.iterdir() if ".tmp" in f.name or f.name == "checkpoint.pt"]
    assert not leftovers


# --- divergence ---

def _nan_from_call(n: int, monkeypatch):
    """Make the training loss NaN from the n-th forward on (a divergence at a known step)."""
    real, calls = train.F.cross_entropy, [0]

    def loss(*args, **kwargs):
        calls[0] += 1
        out = real(*args, **kwargs)
        return out * float("nan") if calls[0] >= n else out

    monkeypatch.setattr(train.F, "cross_entropy", loss)


def test_nan_loss_stops_with_the_step_and_the_last_good_checkpoint(tmp_path, monkeypatch):
    config = resolve("baseline", "smoke", 0, steps=12, checkpoint_every=2, log_every=4)
    _nan_from_call(8, monkeypatch)  # steps 1-7 fine, the 8th loss is NaN
    with pytest.raises(train.TrainingDiverged) as err:
        train.train(config, tmp_path, progress=False)
    folder = results.run_dir(config, tmp_path)
    assert str(err.value).startswith("loss is nan at step 7 of run " + folder.name)
    assert f"last good checkpoint: {folder / 'checkpoint.pt'} (step 6)" in str(err.value)
    assert results.load_torch(folder / "checkpoint.pt", "checkpoint")["step"] == 6
    assert not (folder / "metrics.json").exists() and not (folder / "weights.pt").exists()


def test_divergence_from_the_first_step_names_no_checkpoint(tmp_path, monkeypatch):
    config = resolve("baseline", "smoke", 0, steps=4, log_every=2)
    _nan_from_call(1, monkeypatch)
    with pytest.raises(train.TrainingDiverged, match=r"loss is nan at step 0 .*last good checkpoint: none"):
        train.train(config, tmp_path, progress=False)


@pytest.mark.parametrize("lr", [1e6, 1e10])
def test_a_huge_lr_stops_and_never_checkpoints_bad_weights(tmp_path, lr):
    # A step can leave NaN/Inf weights or batch-norm statistics while its loss was finite: they are checked
    # before every record and checkpoint, so the checkpoint the message names is a good one.
    config = resolve("baseline", "smoke", 0, lr=lr, steps=12, checkpoint_every=2, log_every=2)
    with pytest.raises(train.TrainingDiverged, match=r"(loss is|weights hold) (nan|inf|NaN).* at step \d+ ") as err:
        train.train(config, tmp_path, progress=False)
    ckpt_file = results.run_dir(config, tmp_path) / "checkpoint.pt"
    if ckpt_file.exists():
        ckpt = results.load_torch(ckpt_file, "checkpoint")
        assert f"{ckpt_file} (step {ckpt['step']})" in str(err.value)
        assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())
    else:
        assert "last good checkpoint: none" in str(err.value)
