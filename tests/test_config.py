"""Tests for banding_lib.config: the one table of runs, the profiles, and resolve."""
import pytest

from banding_lib import config, results
from banding_lib.config import RUNS, resolve


def test_the_table_holds_every_run_of_the_article_and_the_follow_ups():
    simplified = {"baseline", "rotated", "flatten", "x_pool", "masks3", "masks5", "masks16", "mask_full",
                  "attention", "coordconv", "groups", "maxpool_fc", "xy_pool", "random_rotation", "vflip", "y_pool",
                  "flatten_unscaled", "x_pool_unscaled", *config.SECOND_SET}
    assert set(config.SIMPLIFIED) == simplified and set(config.FOLLOW_UPS) <= simplified
    assert sorted(config.ARCHITECTURES) == sorted(f"{a}_{v}" for a in ("googlenet", "resnet50", "vgg19")
                                                  for v in ("baseline", "rotated", "flatten"))
    for name, spec in RUNS.items():
        assert spec["about"] and spec["seeds"] and spec["model"]["head"]
        assert set(spec["data"]) <= {"rotate90", "random_rotation", "vflip", "dataset"}
        assert (spec["data"].get("dataset") == "tin10-objects") == (name in config.SECOND_SET)
        if spec["arch"] != "simplified":
            arch, variant = name.split("_")
            assert spec["arch"] == arch and spec["model"] == {"head": "flatten" if variant == "flatten" else "gap"}
            assert spec["data"] == {"rotate90": variant == "rotated"} and arch in spec["about"]
    assert RUNS["rotated"]["data"] == {"rotate90": True} and "bug" in __import__("banding_lib.article").article.found("vgg19_flatten")
    graded = {"baseline", "rotated", "flatten", "x_pool", "y_pool", *__import__("banding_lib.article").article.PERSISTING}
    assert graded <= {p for p, s in RUNS.items() if len(s["seeds"]) == 3}  # every graded run of the simplified net
    assert sorted(p for p in config.SECOND_SET if len(RUNS[p]["seeds"]) == 2) == ["tin10_rotated", "tin10_x_pool"]


def test_an_architectures_recipe_applies_on_its_profiles_and_overrides_win():
    assert resolve("googlenet_baseline", "cpu")["train"]["weight_decay"] == 5e-4
    assert resolve("googlenet_baseline", "cpu")["model"]["init_scale"] == 1.0
    assert resolve("baseline", "cpu")["train"]["weight_decay"] == config.PROFILES["cpu"].weight_decay
    assert resolve("googlenet_baseline", "cpu", weight_decay=1e-3)["train"]["weight_decay"] == 1e-3
    assert "init_scale" not in resolve("googlenet_baseline", "gpu")["model"]  # no recipe at the article's scale


def test_resolve_reads_two_layers_the_profile_with_each_architectures_own_settings_then_the_overrides(monkeypatch):
    import dataclasses

    plain = dataclasses.replace(config.PROFILES["gpu-small"], name="gpu-plain", torchvision=dict(width=1.0))
    monkeypatch.setitem(config.PROFILES, "gpu-plain", plain)
    googlenet, vgg = resolve("googlenet_baseline", "gpu-plain"), resolve("vgg19_baseline", "gpu-plain")
    assert "init_scale" not in googlenet["model"] and vgg["train"]["lr"] == plain.lr  # nothing but the profile
    assert resolve("googlenet_baseline", "gpu-small")["model"]["init_scale"] == 1.0  # its own dict in the profile
    assert resolve("vgg19_baseline", "gpu-small")["train"]["lr"] == 0.02  # plain VGG19: a fifth of the LR, written out
    # the cpu profile's own settings for the torchvision nets: the family's LR 0.05 unless an architecture has its own
    assert resolve("googlenet_baseline", "cpu")["train"]["lr"] == 0.05 and resolve("baseline", "cpu")["train"]["lr"] == 0.1
    own = config.PROFILES["cpu"].torchvision
    assert resolve("vgg19_baseline", "cpu")["train"]["lr"] == own["vgg19"]["lr"]
    assert resolve("resnet50_rotated", "cpu")["train"]["steps"] == own["resnet50"]["steps"]
    assert resolve("rotated", "cpu")["train"]["steps"] == 2400
    assert resolve("vgg19_baseline", "cpu", lr=0.3)["train"]["lr"] == 0.3  # an override wins over everything


def test_profiles_for_gpus_reach_the_articles_final_map():
    from banding_lib import models

    for name in ("gpu-small", "gpu"):
        c = resolve("baseline", name)
        assert c["model"]["width"] == 1.0 and c["model"]["in_size"] == 224
        assert models.simplified_net(10, **c["model"]).final_size >= 7
    assert config.PROFILES["gpu"].stream and config.PROFILES["gpu"].dataset == "imagenet"


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="did you mean baseline.*valid presets: baseline, rotated"):
        resolve("basline")
    with pytest.raises(ValueError, match="unknown profile 'fast'; valid profiles: smoke, cpu, gpu-small, gpu"):
        resolve("baseline", "fast")


def test_the_book_trains_every_run_once(tmp_path):
    folders = [results.run_dir(c, tmp_path) for c in config.book_configs("cpu")]
    # study points without overrides are book runs (the profile, rotated, GAP and no GAP at full length): the same runs
    same = [p for p in config.STUDY if not p["set"] and not p["steps_share"]]
    assert [p["preset"] for p in same] == ["baseline", "rotated", "baseline", "flatten"]
    assert len(set(folders)) == len(folders) - len(same)


@pytest.mark.parametrize("profile", list(config.PROFILES))
def test_every_run_of_the_book_builds_on_every_profile(profile):
    import torch

    from banding_lib import networks

    with torch.device("meta"):  # shapes only: full-width nets in no time and no memory
        for c in config.book_configs(profile):
            networks.build(c, 10)


def _run_names(monkeypatch, bf16: bool) -> dict:
    """{"<profile>/<precision>": book and study folder names and a digest of the full configs}, as if on a
    CPU with (bf16=True) or without bf16 units and no GPU."""
    import hashlib
    import json

    import torch

    from banding_lib import hardware

    monkeypatch.setattr(hardware, "cpu_has_bf16", lambda: bf16)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = {}
    for profile in config.PROFILES:
        book = config.book_configs(profile)
        study = [c for _, c in config.study_configs(profile)]
        out[f"{profile}/{'bf16' if bf16 else 'fp32'}"] = {
            "book": [results.run_dir(c, "/r").name for c in book],
            "study": [results.run_dir(c, "/r").name for c in study],
            "full": hashlib.sha1(json.dumps(book + study, sort_keys=True, default=str).encode()).hexdigest()}
    return out


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
def test_every_resolved_config_is_the_one_the_result_cache_was_trained_with(monkeypatch, bf16):
    """Results lie in folders keyed by the config's hash: a refactor of the tables must not move one.
    tests/config_hashes.json was written by this function on the code of d9c54b6; regenerate it only with a
    RECIPE bump (a change to what runs compute) or when runs are added (every earlier name kept: checked when the
    Evidence and Generality runs were added; the Architectures issue changed only the cpu profile's nine
    architecture runs, by their new recipes, and added seeds), never to make a refactor pass."""
    import json
    from pathlib import Path

    expected = json.loads((Path(__file__).parent / "config_hashes.json").read_text())
    for key, got in _run_names(monkeypatch, bf16).items():
        want = expected[key]
        assert got["book"] == want["book"] and got["study"] == want["study"], key
        assert got["full"] == want["full"], f"{key}: a field outside the identity (machine, paths) changed"


def test_an_architectures_own_settings_on_a_profile_win_with_their_lr_as_written():
    vgg = resolve("vgg19_baseline", "cpu")
    assert vgg["model"]["batch_norm"] is True and vgg["model"]["width"] == 0.0625 and vgg["train"]["lr"] == 0.1
    assert vgg["train"]["steps"] == 2400 and "googlenet" not in vgg["model"] and "vgg19" not in vgg["train"]
    assert resolve("googlenet_flatten", "cpu")["model"]["width"] == 0.25  # one recipe for all three variants
    assert resolve("vgg19_baseline", "gpu")["train"]["lr"] == pytest.approx(0.2 / 5)  # plain VGG19: a fifth
    assert resolve("vgg19_baseline", "cpu", steps=100)["train"]["steps"] == 100  # an override still wins
