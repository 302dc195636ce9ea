"""banding_lib.explorer: each layer's pictures travel as one PNG strip in similarity order, and the page's data
is a valid JSON block that no picture can break out of."""
import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from banding_lib import explorer, reduce


def _reduction(n=12, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return reduce.reduction(torch.randn(n, 8, k, k, generator=g))


def test_the_sprite_holds_every_picture_in_the_grid_order():
    red = _reduction()
    e = explorer.entry(red, "about")
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(e["sprite"].split(",", 1)[1]))).convert("RGB"))
    assert img.shape == (3, 12 * 3, 3) and e["n"] == list(np.asarray(red.order))
    pics = np.clip(np.rint(red.pictures.numpy() * 255), 0, 255).astype(np.uint8)
    for slot, n in enumerate(e["n"]):
        assert (img[:, slot * 3:(slot + 1) * 3] == pics[n]).all()
    rows, _ = red.shares()
    assert e["rows"][0] == pytest.approx(float(rows[e["n"][0]]), abs=0.005) and "row" in e["score"]


def test_the_page_carries_every_run_as_json_and_starts_on_the_named_one():
    runs = {"a · seed 0": {"5b": explorer.entry(_reduction(), "x</script><b>")}, "b · seed 1": {"5a": explorer.entry(_reduction(k=5))}}
    page = explorer.explorer_html(runs, first="b · seed 1")
    payload = re.search(r"<script type=\"application/json\">(.*?)</script>", page, re.S).group(1)
    assert json.loads(payload)["a · seed 0"]["5b"]["about"] == "x</script><b>"
    assert page.split("runPick.value = ")[1].startswith(json.dumps("b · seed 1"))
    with pytest.raises(ValueError, match="not among the runs"):
        explorer.explorer_html(runs, first="c")
    with pytest.raises(ValueError, match="at least one run"):
        explorer.explorer_html({})
