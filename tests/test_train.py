"""Tests for banding_lib.train: every preset trains, finished runs are reused, DDP on two CPU processes,
and an interrupted run resumes to the same weights as an uninterrupted one."""
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from banding_lib import config, models, networks, results, runner, train
from banding_lib.config import PROFILES, resolve
from banding_lib.layers import layer_weight

REPO = Path(__file__).resolve().parents[1]
TINY = dict(steps=2, log_every=1)  # two optimizer steps, a record after each




def _finite_score(score: dict) -> bool:
    return all(math.isfinite(score[k]) for k in ("row", "col", "row_lo", "col_hi")) and score["neurons"] > 0


@pytest.mark.parametrize("preset", list(config.RUNS))
def test_every_preset_trains_and_scores_its_tracked_layers(preset, tmp_path):
    cfg = resolve(preset, "smoke", 0, **TINY)
    folder = train.train(cfg, tmp_path, progress=False)
    m = json.loads((folder / "metrics.json").read_text())
    assert m["steps"] == 2 and [h["step"] for h in m["history"]] == [1, 2]
    assert math.isfinite(m["final"]["loss"]) and all(math.isfinite(h["loss"]) for h in m["history"])
    _, tracked = networks.build(cfg, m["num_classes"])
    assert m["tracked"] == tracked and set(m["final"]["banding"]) == set(tracked)
    for name in tracked:
        for kind in ("W", "dW"):
            assert _finite_score(m["final"]["banding"][name][kind]), (name, kind)
            assert _finite_score(m["history"][-1]["banding"][name][kind]), (name, kind)
    assert not (folder / "checkpoint.pt").exists()  # a finished run keeps no checkpoint
    run = results.load_run(folder)  # checksums match what was written
    assert set(run.weights) == set(tracked)
    assert not torch.equal(run.weights[tracked[0]], run.init[tracked[0]])  # training moved the weights
    model = run.model()  # the one way to rebuild a trained model: model.pt in the run's own architecture
    assert not model.training and torch.equal(layer_weight(model, tracked[0]), run.weights[tracked[0]])


def test_a_finished_run_is_reused_not_retrained(tmp_path, monkeypatch):
    config = resolve("baseline", "smoke", 0, **TINY)
    folder = train.train(config, tmp_path, progress=False)
    stamps = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train, "_fit", no_training)
    assert train.train(resolve("baseline", "smoke", 0, **TINY), tmp_path, progress=False) == folder
    assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == stamps


def test_seed_and_overrides_select_their_own_folder(tmp_path):
    base = resolve("baseline", "smoke", 0, **TINY)
    others = [resolve("baseline", "smoke", 1, **TINY), resolve("baseline", "smoke", 0, steps=3, log_every=1),
              resolve("baseline", "smoke", 0, **TINY, width=0.25), resolve("rotated", "smoke", 0, **TINY)]
    folders = {results.run_dir(c, tmp_path) for c in [base, *others]}
    assert len(folders) == 5
    assert results.run_dir(resolve("baseline", "smoke", 0, **TINY), tmp_path) == results.run_dir(base, tmp_path)


def _final_state(folder: Path):
    blob = results.load_torch(folder / "weights.pt")
    return blob, results.load_torch(folder / "model.pt")


def _assert_same_weights(a: Path, b: Path):
    (wa, ma), (wb, mb) = _final_state(a), _final_state(b)
    for part in ("final", "init"):
        assert wa[part].keys() == wb[part].keys()
        for name in wa[part]:
            assert torch.equal(wa[part][name], wb[part][name]), (part, name)
    assert ma.keys() == mb.keys()
    differ = [k for k in ma if not torch.equal(ma[k], mb[k])]
    assert not differ, differ


# googlenet has dropout: its resume must continue the global RNG stream too.
@pytest.mark.parametrize("preset", ["baseline", "googlenet_baseline"])
def test_resume_ends_with_the_weights_of_an_uninterrupted_run(preset, tmp_path):
    # log and checkpoint intervals that do not divide each other: the loss of a record spans the resume
    config = resolve(preset, "smoke", 0, steps=9, checkpoint_every=3, log_every=2)
    whole = train.train(config, tmp_path / "whole", progress=False)

    cut = train.train(config, tmp_path / "cut", progress=False, stop_after=5)  # "killed" after step 5
    assert (cut / "checkpoint.pt").exists() and not (cut / "metrics.json").exists()
    assert not (cut / "weights.pt").exists()
    assert results.load_torch(cut / "checkpoint.pt")["step"] == 3  # steps 4 and 5 are lost, redone on resume
    assert train.train(config, tmp_path / "cut", progress=False) == cut

    _assert_same_weights(whole, cut)
    hw, hc = (json.loads((f / "metrics.json").read_text())["history"] for f in (whole, cut))
    assert [(h["step"], h["loss"], h["images"]) for h in hw] == [(h["step"], h["loss"], h["images"]) for h in hc]
    assert not (cut / "checkpoint.pt").exists()


_DDP_DRIVER = textwrap.dedent("""
    # The CLI under torchrun, keeping each rank's model to compare the ranks afterwards.
    import os, sys
    import torch
    held = {}

    class Keep(torch.nn.parallel.DistributedDataParallel):
        def __init__(self, module, *args, **kwargs):
            super().__init__(module, *args, **kwargs)
            held["model"] = module

    torch.nn.parallel.DistributedDataParallel = Keep
    from banding_lib.__main__ import main
    code = main(sys.argv[2:])
    torch.save(held["model"].state_dict(), os.path.join(sys.argv[1], f"rank{os.environ['RANK']}.pt"))
    sys.exit(code)
""")


def test_ddp_on_two_cpu_processes(tmp_path):
    driver = tmp_path / "ddp_driver.py"
    driver.write_text(_DDP_DRIVER)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                             "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    cmd = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", "2", str(driver),
           str(tmp_path), "train", "baseline", "--profile", "smoke", "--results", str(tmp_path / "results"), "--quiet",
           "--set", "steps=6", "--set", "log_every=3", "--set", "checkpoint_every=3"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = resolve("baseline", "smoke", 0, steps=6, log_every=3, checkpoint_every=3)
    folder = results.run_dir(config, tmp_path / "results")
    run = results.load_run(folder)
    assert run.metrics["world_size"] == 2 and run.metrics["steps"] == 6
    assert run.metrics["images"] == 6 * config["train"]["batch_size"]  # the global batch, split over ranks
    assert not (folder / "checkpoint.pt").exists()

    saved = run.state_dict()
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name, w in run.weights.items():  # weights.pt holds the final weights of model.pt
        assert torch.equal(w, saved[f"{name}.conv.weight"]), name
    assert all(torch.equal(saved[k], rank0[k]) for k in saved)  # model.pt is rank 0's model, buffers included
    params = {name for name, _ in models.simplified_net(10, **config["model"]).named_parameters()}
    differ = [k for k in params if not torch.equal(rank0[k], rank1[k])]
    assert not differ, f"DDP ranks hold different parameters: {differ}"
    # (batch-norm running statistics are per rank; DDP broadcasts rank 0's before every forward)


def test_vgg19_trains_at_a_scaled_lr_unless_lr_is_given():
    smoke = PROFILES["smoke"].lr
    assert resolve("vgg19_baseline", "smoke")["train"]["lr"] == pytest.approx(0.2 * smoke)
    assert resolve("resnet50_baseline", "smoke")["train"]["lr"] == smoke
    assert resolve("vgg19_baseline", "smoke", lr=0.3)["train"]["lr"] == 0.3


def test_notebooks_load_runs_and_never_train(tmp_path, monkeypatch):
    """runner.load returns finished runs; a missing one is an error naming the command that trains it."""
    monkeypatch.setattr(train, "train", lambda *a, **k: pytest.fail("a notebook's load trained a run"))
    with pytest.raises(runner.MissingRuns, match=r"rotated s0.*make runs PROFILE=smoke.*train rotated --profile smoke --seed 0"):
        runner.load(["rotated"], "smoke", [0], tmp_path)
    monkeypatch.undo()
    train.train(resolve("baseline", "smoke", 0), tmp_path, progress=False)
    runs = runner.load(["baseline"], "smoke", [0], tmp_path)
    assert list(runs) == [("baseline", 0)] and runs["baseline", 0].metrics["steps"] == PROFILES["smoke"].steps


def test_train_many_hands_workers_the_resolved_configs(tmp_path, capsys):
    configs = [resolve(p, "smoke", 0, steps=6, checkpoint_every=3) for p in ("baseline", "rotated")]
    assert runner.train_many(configs + configs[:1], tmp_path, jobs=2) == 0  # a run listed twice trains once
    assert capsys.readouterr().out.count("baseline s0") == 1
    runs = [results.load_run(results.run_dir(c, tmp_path)) for c in configs]
    assert {r.metrics["steps"] for r in runs} == {6} and [r.config["preset"] for r in runs] == ["baseline", "rotated"]
    assert all(results.config_hash(r.config) == results.config_hash(c) for r, c in zip(runs, configs))


def test_layer_table_overrides_reach_the_model_and_the_folder_key(tmp_path):
    base = resolve("baseline", "smoke", 0)
    short = resolve("baseline", "smoke", 0, blocks=["block0", "block1", "block2", "block5"])
    k3 = resolve("baseline", "smoke", 0, kernels=[7, 3, 3, 3, 3, 3])
    assert len({results.run_dir(c, tmp_path) for c in (base, short, k3)}) == 3
    model, tracked = networks.build(short, 10)
    assert "block4.e" not in tracked and {"block5.a", "block5.b", "block0.a"} <= set(tracked)
    assert networks.build(k3, 10)[0].get_submodule("block5.b").conv.kernel_size == (3, 3)


def test_train_many_reports_a_failed_run_and_trains_the_others(tmp_path, capsys):
    good = resolve("baseline", "smoke", 0, steps=2, log_every=1)
    bad = resolve("baseline", "smoke", 0, steps=2, log_every=1, optimizer="nope")
    assert runner.train_many([good, bad], tmp_path, jobs=2) == 1
    assert results.is_finished(results.run_dir(good, tmp_path))
    assert "FAILED" in capsys.readouterr().out


def test_every_study_point_trains_what_it_says(tmp_path):
    """Each point's overrides reach its config; two points share a folder only when they are the same run."""
    profile = config.get_profile("cpu")
    for point, c in config.study_configs("cpu"):
        for key, value in point["set"].items():
            got = c["train"].get(key, c["model"].get(key))
            assert (list(got) if isinstance(got, tuple) else got) == (list(value) if isinstance(value, tuple) else value), (point["label"], key)
        if point["steps_share"]:
            assert c["train"]["steps"] == round(profile.steps * point["steps_share"]) != profile.steps
    folders = {}
    for point, c in config.study_configs("cpu"):
        folders.setdefault(results.run_dir(c, tmp_path), []).append(c)
    assert all(all(x == group[0] for x in group) for group in folders.values())
    gap = [p for p in config.STUDY if p["axis"] == "GAP over training"]
    assert len(gap) == 8 and {p["preset"] for p in gap} == {"baseline", "flatten"}  # 1/4, 1/2, 1 and 2x the steps


def test_resolve_reads_no_files(tmp_path, monkeypatch):
    """resolve is pure: it works where the photos are not, and leaves nothing behind."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANDING_DATA", str(tmp_path / "nowhere"))
    for profile in config.PROFILES:
        assert len(config.book_configs(profile)) == sum(len(s["seeds"]) for s in config.RUNS.values()) + len(config.STUDY)
    assert list(tmp_path.iterdir()) == []


def test_machine_settings_are_not_part_of_a_runs_identity(tmp_path):
    a, b = resolve("baseline", "gpu", 0), resolve("baseline", "gpu", 0, decode="device")
    assert b["machine"] == {"decode": "device"} and results.run_dir(a, tmp_path) == results.run_dir(b, tmp_path)


@pytest.mark.parametrize("build, head_param", [
    (lambda: __import__("banding_lib.models").models.simplified_net(10, width=0.125, in_size=32, pools=3), "head.fc.weight"),
    (lambda: __import__("banding_lib.architectures").architectures.torchvision_net("resnet50", 10, width=0.0625, in_size=32), "fc.weight"),
])
def test_classifier_weights_get_their_own_decay(build, head_param):
    model = build()
    body, head, flat = train.param_groups(model, 0.05, 5e-4)
    ids = lambda g: {id(p) for p in g["params"]}
    params = dict(model.named_parameters())
    assert id(params[head_param]) in ids(head) and head["weight_decay"] == 5e-4
    assert body["weight_decay"] == 0.05 and flat["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in body["params"]) and all(p.ndim <= 1 for p in flat["params"])
    assert len(ids(body) | ids(head) | ids(flat)) == len(params)
    assert train.param_groups(model, 0.05)[1]["weight_decay"] == 0.05  # default: the same decay


def test_precision_and_recipe_version_are_part_of_a_runs_identity(tmp_path, monkeypatch):
    bf16, fp32 = resolve("baseline", "smoke", 0, precision="bf16"), resolve("baseline", "smoke", 0, precision="fp32")
    assert (bf16["train"]["precision"], fp32["train"]["precision"]) == ("bf16", "fp32")
    assert results.run_dir(bf16, tmp_path) != results.run_dir(fp32, tmp_path)
    assert resolve("baseline", "smoke", 0, amp=False)["train"]["precision"] == "fp32"  # --set amp=false: fp32 anywhere
    monkeypatch.setattr(config, "RECIPE", config.RECIPE + 1)  # a change of what a run computes
    assert results.run_dir(resolve("baseline", "smoke", 0, precision="fp32"), tmp_path) != results.run_dir(fp32, tmp_path)


def test_a_bf16_run_learns_and_resumes_bitwise(tmp_path):
    """bf16 autocast on the CPU (emulated where the CPU has no bf16 units: slow but the same code path)."""
    cfg = resolve("baseline", "smoke", 0, precision="bf16", steps=32, log_every=4, checkpoint_every=4, lr=0.05)
    whole = train.train(cfg, tmp_path / "whole", progress=False)
    history = json.loads((whole / "metrics.json").read_text())["history"]
    assert history[-1]["loss"] < history[0]["loss"] - 0.05, [h["loss"] for h in history]
    cut = train.train(cfg, tmp_path / "cut", progress=False, stop_after=6)
    assert results.load_torch(cut / "checkpoint.pt")["step"] == 4  # the last checkpoint before the kill
    train.train(cfg, tmp_path / "cut", progress=False)
    _assert_same_weights(whole, cut)
    assert json.loads((cut / "metrics.json").read_text())["provenance"]["cpu"]["model"]
