"""Many runs: train the missing ones in parallel worker processes (`make runs`), and load finished ones for
the notebooks, which never train (a missing run is an error that names the command that makes it)."""
from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import sys
import time
import traceback

from . import config as cfg
from . import data, networks, results, train


class MissingRuns(FileNotFoundError):
    """Runs a notebook needs that are not in the results folder; the message says how to train them."""


def check_data(configs: list[dict]) -> None:
    """Fail before any training starts when a run's photos are missing (DataNotFound says what to do)."""
    for key in {(c["data"]["dataset"], c["paths"]["data_root"]) for c in configs}:
        if key[0] != "synthetic":
            for split in ("train", "val"):
                data.split_folder(key[0], split, key[1])


def _worker(config: dict, root) -> float:
    """One run in a worker process (see train_many): seconds it took."""
    t0 = time.perf_counter()
    train.train(config, root, progress=False)
    return time.perf_counter() - t0


def _cost(config: dict) -> float:
    """A run's training FLOPs (networks.train_flops x images), for ordering only."""
    cfg = config["train"]
    return networks.train_flops(config) * cfg["batch_size"] * (cfg["steps"] or cfg["epochs"])


def train_many(configs: list[dict], root=None, jobs: int = 2, progress: bool = True) -> int:
    """Train the resolved configs whose results are missing, `jobs` at a time, each in a fresh worker process
    that receives the config itself (one thread each on a CPU, per the profile). Returns 0 when all succeeded,
    1 when any failed (each failure is printed with its traceback; the others still train)."""
    folders = {results.run_dir(c, root): c for c in configs}  # one worker per run, even when listed twice
    todo = [c for folder, c in folders.items() if not results.is_finished(folder)]
    todo.sort(key=_cost, reverse=True)  # the longest first: no lone long run at the end with a core idle
    if not todo:
        return 0
    check_data(todo)
    in_memory = {json.dumps([c["data"]["dataset"], c["paths"], c["train"]["image_size"]]): c
                 for c in todo if c["data"]["dataset"] != "synthetic" and not c["train"]["stream"]}
    for c in in_memory.values():  # decode (and cache) each photo set once, before the workers start
        train.load_data(c, progress)
    code = 0
    with cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = {pool.submit(_worker, c, root): c for c in todo}
        for future in cf.as_completed(futures):
            c = futures[future]
            name = f"{c['preset']} s{c['seed']} ({results.run_dir(c, root).name})"
            try:
                print(f"{name}: done in {future.result():.0f} s", flush=True)
            except Exception as err:  # noqa: BLE001 - report every failed run, then fail as a whole
                code = 1
                print(f"{name}: FAILED", flush=True)
                print("".join(traceback.format_exception(err))[-3000:], file=sys.stderr)
    return code


def load(presets, profile: str = "cpu", seeds=None, root=None) -> dict:
    """{(preset, seed): results.Run} of finished runs, each preset with its own seeds (config.RUNS) unless
    `seeds` names them; MissingRuns naming the command that trains the missing ones. Reads no photos."""
    configs = {(p, s): cfg.resolve(p, profile, s) for p in presets
               for s in (cfg.RUNS[p]["seeds"] if seeds is None else seeds)}
    missing = [key for key, c in configs.items() if not results.is_finished(results.run_dir(c, root))]
    if missing:
        where = "" if root is None else f" --results {root}"
        names = " ".join(dict.fromkeys(p for p, _ in missing))
        seeds_needed = " ".join(str(s) for s in sorted({s for _, s in missing}))
        raise MissingRuns(f"{len(missing)} run(s) of profile {profile!r} are not trained yet: "
                          f"{', '.join(f'{p} s{s}' for p, s in missing)}. Train them with `make runs PROFILE={profile}` "
                          f"(every run of the book) or `python -m banding_lib train {names} --profile {profile} "
                          f"--seed {seeds_needed}{where}`")
    return {key: results.load_run(results.run_dir(c, root)) for key, c in configs.items()}
