"""The neuron pickers react: the static one to clicks and its slider, the live one to its controls."""
from banding_lib import metrics, plots, reduce, widgets
from conftest import fake_run


# --------------------------------------------------------------------------------------- static picker
def test_static_neuron_picker_selects_by_click_and_slider():
    red = reduce.reduce_weight(fake_run(out=9).weights["block5.b"])
    spec = widgets.static_neuron_picker(red.pictures, red.channels, layer="block5.b").to_dict()
    text = str(spec)
    (pick,) = spec["params"]
    assert pick["views"] == [spec["vconcat"][0]["layer"][0]["name"]]  # clicks on the grid's pixels
    assert pick["select"]["on"].startswith("click[") and pick["bind"]["max"] == 8
    slot = plots.medoid(red.pictures)  # no order given: grid place = neuron index
    assert pick["value"] == [{"slot": slot}]  # a typical neuron, not the outlier; the slider counts grid places
    assert pick["select"]["fields"] == ["slot"]
    assert text.count("'param': 'neuron', 'empty': False") >= 4  # outline, picture, factors, text follow it
    assert "'neuron block5.b:' + datum.n" in text


def test_static_neuron_picker_for_starts_on_the_layers_most_typical_neuron():
    red = reduce.reduce_weight(fake_run(out=10).weights["block5.b"])
    picker = widgets.static_neuron_picker_for(red, layer="block5.b").to_dict()
    assert picker["params"][0]["value"] == [{"slot": list(red.order).index(plots.medoid(red.pictures))}]


# ----------------------------------------------------------------------------------------- live picker
def test_neuron_picker_updates_the_score_with_the_slider():
    runs = [fake_run("baseline", 0, out=6, layers=("block5.b",)), fake_run("rotated", 1, out=4, layers=("block5.b",))]
    box = widgets.neuron_picker(runs, layers=("block5.a", "block5.b"), scale=0.5)
    (run_pick, layer_pick, neuron), (image, info) = box.children[0].children, box.children[1].children
    assert layer_pick.options == ("block5.b",) and neuron.max == 5
    rows, _ = reduce.reduce_weight(runs[0].weights["block5.b"]).shares()
    assert f"row share {rows[0]:.3f}" in info.value and image.value[:4] == b"\x89PNG"
    neuron.value = 3
    assert f"block5.b:3" in info.value and f"row share {rows[3]:.3f}" in info.value
    run_pick.value = "rotated"  # fewer neurons: the slider's range follows
    assert neuron.max == 3 and neuron.value == 3 and info.value.startswith("<p><b>rotated")


def test_a_click_in_a_gap_does_not_empty_the_static_picker():
    import numpy as np

    spec = widgets.static_neuron_picker(np.random.default_rng(0).random((6, 5, 5, 3))).to_dict()
    (param,) = [p for p in spec["params"] if p["name"] == "neuron"]
    assert param["select"]["on"].startswith("click[") and "isValid(event.item.datum.slot)" in param["select"]["on"]
