"""benchmarks/reproduce.py: a rerun set beside the book's scores, row for row, and a clear message with no runs."""
import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("reproduce", ROOT / "benchmarks" / "reproduce.py")
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)


def test_compare_pairs_book_rows_of_the_same_run_and_layer():
    rerun = pd.DataFrame([{"preset": "baseline", "seed": 1, "val_top1": 0.70, "row": 0.80, "col": 0.15, "train_min": 6.0}])
    book = pd.DataFrame([
        {"preset": "baseline", "seed": 1, "layer": "block5.b", "kind": "NMF", "book": True, "val_top1": 0.72, "row": 0.78, "col": 0.17, "train_min": 3.0},
        {"preset": "baseline", "seed": 1, "layer": "block5.b", "kind": "W", "book": True, "val_top1": 0.72, "row": 0.1, "col": 0.1, "train_min": 3.0},
        {"preset": "baseline", "seed": 1, "layer": "block5.a", "kind": "NMF", "book": True, "val_top1": 0.72, "row": 0.5, "col": 0.5, "train_min": 3.0},
        {"preset": "baseline", "seed": 1, "layer": "block5.b", "kind": "NMF", "book": False, "val_top1": 0.5, "row": 0.0, "col": 0.0, "train_min": 9.0},
    ])
    both = reproduce.compare(rerun, book, "block5.b")
    assert len(both) == 1
    assert round(float(both.d_row.iloc[0]), 3) == 0.02
    assert round(float(both.d_val_top1.iloc[0]), 3) == -0.02


def test_no_trained_run_says_what_to_run(tmp_path, capsys):
    assert reproduce.main(["--results", str(tmp_path), "--out", str(tmp_path / "r.json")]) == 1
    assert "make runs" in capsys.readouterr().out
