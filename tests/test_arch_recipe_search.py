"""benchmarks/arch_recipe_search.py: the rule that picks each architecture's recipe reads accuracy, budget and
the scored layer's size, never the bands."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("arch_recipe_search", ROOT / "benchmarks" / "arch_recipe_search.py")
search = importlib.util.module_from_spec(spec)
spec.loader.exec_module(search)


def _row(name, val, minutes=3.0, neurons=64, pflop=1.0, seed=0, row=0.3, arch="resnet50"):
    return {"candidate": name, "arch": arch, "seed": seed, "val_top1": val, "train_min": minutes,
            "neurons": neurons, "pflop": pflop, "row": row, "col": 0.2}


def test_the_most_accurate_candidate_within_budget_wins_and_bands_take_no_part():
    rows = [_row("a", 0.60, row=0.9), _row("b", 0.65, row=0.25), _row("c", 0.70, minutes=9.0),
            _row("d", 0.80, seed=1), _row("e", 0.99, arch="vgg19")]
    assert search.choose(rows, "resnet50", 5.5) == "b"


def test_a_tie_goes_to_the_cheaper_and_too_few_neurons_never_qualify():
    rows = [_row("big", 0.655, pflop=3.0), _row("small", 0.648, pflop=1.0), _row("thin", 0.9, neurons=16)]
    assert search.choose(rows, "resnet50", 5.5) == "small"
    assert search.choose([_row("thin", 0.9, neurons=16)], "resnet50", 5.5) is None


def test_every_candidate_resolves_to_its_architecture_baseline():
    cfgs = search.configs(list(search.CANDIDATES))
    assert len({search.results.config_hash(c) for c in cfgs.values()}) == len(search.CANDIDATES)  # one run each
    for (name, _), c in cfgs.items():
        assert c["preset"] == f"{search.CANDIDATES[name][0]}_baseline" and c["model"]["head"] == "gap"


def test_where_a_no_pooling_run_learned_only_candidates_whose_no_pooling_run_learned_qualify():
    rows = [_row("fast", 0.66), _row("slow", 0.64), {**_row("fast", 0.55), "variant": "flatten"},
            {**_row("slow", 0.61), "variant": "flatten"}]
    assert search.choose(rows, "resnet50", 5.5) == "slow"
    none_learned = [_row("fast", 0.66), _row("slow", 0.64), {**_row("fast", 0.55), "variant": "flatten"}]
    assert search.choose(none_learned, "resnet50", 5.5) == "fast"  # no candidate's did: the rule without the check


def test_the_second_amendment_checks_every_new_candidate_without_pooling():
    new = [n for n, (_, changes, _) in search.CANDIDATES.items() if "second amendment" in changes]
    assert len(new) == 3 and set(new) <= set(search.FLATTEN_CHECK)
    assert all(search.CANDIDATES[n][0] == "resnet50" for n in new)
    flat = search.configs(new, variant="flatten")
    assert all(c["preset"] == "resnet50_flatten" and c["model"]["head"] == "flatten" for c in flat.values())


def test_head_energy_without_pooling_is_at_least_the_map_s_area_times_the_pooled_one():
    # ||sum_p x_p||^2 / P^2 <= sum_p ||x_p||^2 / P (Jensen), so the flattened 4x4 map carries >= 16 times the energy
    energy = search.head_energy("resnet50", 0.0625)
    assert energy["ratio"] >= 16 and energy["flatten"] > energy["gap"] > 0


def test_the_committed_search_s_winners_follow_the_rule_and_are_the_cpu_profile_s_recipes():
    import json

    from banding_lib import config

    out = json.loads((ROOT / "benchmarks" / "arch_recipe_search.json").read_text())
    for arch, winner in out["winners"].items():
        assert search.choose(out["rows"], arch, out["budget_min"]) == winner
        chosen = search.configs([winner])[winner, 0]
        book = config.resolve(f"{arch}_baseline", "cpu", 0, search.data.data_root())
        assert chosen["train"] == book["train"] and chosen["model"] == book["model"], arch  # the book trains the winner


def test_running_md_states_the_recipes_the_cpu_profile_trains():
    """book/running.md describes each architecture's recipe in words: its numbers must be the config's."""
    from banding_lib import article, config

    text = " ".join((ROOT / "book" / "running.md").read_text().split())  # one line: sentences wrap anywhere
    assert f"{search.BUDGET_MIN:g} minutes a run" in text and f"below {article.LEARNED_TORCHVISION:.2f}" in text
    for arch, words in (("googlenet", "GoogLeNet at width"), ("resnet50", "ResNet50 at width"), ("vgg19", "at width")):
        c = config.resolve(f"{arch}_baseline", "cpu")
        assert f"{words} 1/{round(1 / c['model']['width'])}" in text, arch
    resnet = config.resolve("resnet50_baseline", "cpu")["train"]
    assert f"after {resnet['warmup']} warm-up steps" in text
