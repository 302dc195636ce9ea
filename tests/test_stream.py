"""The streaming path (config profile gpu): trains from an ImageNet-layout tree through DataLoader workers,
from the command line, with memory that does not grow with the number of photos."""
import subprocess
import sys
import textwrap

from banding_lib import results
from banding_lib.__main__ import main
from test_data import imagenet_tree

TINY = {"steps": 4, "batch_size": 8, "image_size": 40, "in_size": 32, "width": 0.0625, "workers": 2,
        "val_subset": 6, "log_every": 2, "checkpoint_every": 2, "warmup": 2}


def test_gpu_profile_streams_an_imagenet_tree_given_with_data(tmp_path):
    tree = imagenet_tree(tmp_path / "my_photos", per_class=(12, 3))  # train/ and val/ inside: the tree itself
    argv = ["train", "baseline", "--profile", "gpu", "--data", str(tree), "--results", str(tmp_path / "r"), "--quiet"]
    assert main(argv + [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]) == 0
    (metrics,) = (tmp_path / "r").glob("*/metrics.json")  # the one finished run
    run = results.load_run(metrics.parent)
    assert run.config["train"]["stream"] and run.config["data"]["dataset"] == str(tree)
    assert run.metrics["steps"] == 4 and run.metrics["num_classes"] == 3 and len(run.metrics["history"]) == 2


PEAK = textwrap.dedent("""
    import sys
    from banding_lib import config, train
    c = config.resolve("baseline", "gpu", 0, dataset=sys.argv[1], stream=sys.argv[3] == "1", steps=3, batch_size=8,
                       image_size=192, in_size=32, width=0.0625, workers=0, val_subset=8, log_every=3,
                       checkpoint_every=3, warmup=1, threads=1)
    open("/proc/self/clear_refs", "w").write("5")  # Linux: reset the peak (VmHWM) to now, after the imports
    train.train(c, sys.argv[2], progress=False)
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(int(hwm.split()[1]) // 1024)  # MiB, the peak while training
""")


def _peak_mib(tree, results_root, stream: bool) -> int:
    out = subprocess.run([sys.executable, "-c", PEAK, str(tree), str(results_root), "1" if stream else "0"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_streaming_memory_does_not_grow_with_the_number_of_photos(tmp_path):
    small = imagenet_tree(tmp_path / "small", per_class=(10, 4), classes=("n01", "n02"), corrupt=False)
    large = imagenet_tree(tmp_path / "large", per_class=(600, 4), classes=("n01", "n02"), corrupt=False)
    grow_stream = _peak_mib(large, tmp_path / "r", True) - _peak_mib(small, tmp_path / "r", True)
    # the in-memory path on the same photos: 1200 x 3 x 192 x 192 bytes = 127 MiB more (the test can fail)
    grow_memory = _peak_mib(large, tmp_path / "r", False) - _peak_mib(small, tmp_path / "r", False)
    assert grow_stream < 25 and grow_memory > 60, (grow_stream, grow_memory)
