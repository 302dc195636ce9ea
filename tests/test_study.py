"""The scale study read axis by axis (banding_lib.study.axes) and drawn one small chart per axis."""
import pandas as pd

from banding_lib import config, plots, results, study


def _scores(profile="cpu"):
    """A scores table holding every study point of `profile`: row share = 0.5 + steps / 1e5, column share 0.2."""
    rows = []
    for point, cfg in config.study_configs(profile):
        for layer in study.LAYERS:
            steps = cfg["train"]["steps"]
            rows.append({"kind": "NMF", "layer": layer, "folder": results.run_dir(cfg).name, "row": 0.5 + steps / 1e5,
                         "col": 0.2, "row_lo": 0.4, "row_hi": 0.6, "col_lo": 0.1, "col_hi": 0.3, "null": 0.17,
                         "val_top1": 0.6, "steps": steps, "train_min": 1.0, "train_flops_per_image": 1e8})
    return pd.DataFrame(rows).drop_duplicates(["folder", "layer"])


def test_each_axis_holds_the_profile_and_the_values_it_varies():
    axes = study.axes(study.frame(_scores()))
    b = axes[axes.layer == "block5.b"]
    assert list(dict.fromkeys(b.axis)) == [a for a in study.AXIS_VALUES if a in set(b.axis)]
    steps = b[b.axis == "training steps"].sort_values("order")
    assert list(steps.value) == ["600", "1200", "2400*", "4800"]  # the GAP runs at the profile's decay, in step order
    assert not {"depth", "width", "weight decay", "kernel size"} & set(b.axis)  # cut for the time budget


def test_the_axes_chart_has_one_panel_per_axis_and_fits_the_column():
    axes = study.axes(study.frame(_scores()))
    spec = plots.axes_chart(axes, title="5b").to_dict()
    assert spec["facet"]["field"] == "axis" and spec["resolve"]["scale"]["x"] == "independent"
    columns = spec["columns"]
    assert columns * (spec["spec"]["width"] + 40) <= plots.COLUMN_WIDTH
    drawn = pd.DataFrame(spec["data"]["values"] if isinstance(spec["data"].get("values"), list)
                         else next(iter(spec["datasets"].values())))
    assert set(drawn.measure) == {"row share", "column share"} and set(drawn.layer if "layer" in drawn else ["block5.b"]) == {"block5.b"}


def test_the_contrast_finding_says_what_more_training_does():
    c = study.contrast(study.frame(_scores()))
    text = study.contrast_finding(c)
    assert "**more training**" in text and "4800" in text and ("still rises" in text or "levels off" in text or "falls" in text)


def test_the_recipe_searches_load_as_tables_and_a_missing_file_as_none(tmp_path):
    import json

    arch = study.arch_recipe_search()
    assert set(arch["winners"].values()) <= set(arch["table"].index) and set(arch["table"]["run"]) == {"baseline", "flatten"}
    assert list(study.recipe_search()["table"].columns)[:2] == ["seed", "what it changes"]
    (tmp_path / "empty.json").write_text(json.dumps({"rows": []}))
    assert study.recipe_search(tmp_path / "empty.json")["table"].empty
    assert study.arch_recipe_search(tmp_path / "missing.json") is None
