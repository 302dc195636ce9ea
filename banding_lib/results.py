"""A results folder per run, keyed by a hash of its resolved config.

    <results root>/<preset>-<profile>-s<seed>-<hash>/
        config.json     the resolved config (everything that decides the run)
        weights.pt      final and initial weights of the tracked layers: {"final": {layer: W}, "init": {...}}
        model.pt        final state dict of the whole model
        metrics.json    history, final scores, provenance; written last, so it marks a finished run and
                        holds the sha256 of weights.pt and model.pt, checked on load
        checkpoint.pt   while training only: model, optimizer, step (atomic, for resume)

Every file is written to a temporary name and renamed (atomic on POSIX), so a reader never sees half a
file, and a crash never replaces a good file with a bad one.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import FORMAT  # noqa: F401  (the layout of a results folder; part of every config)


class CorruptResults(RuntimeError):
    """A results or checkpoint file that is truncated, corrupt, or from an incompatible version."""


def results_root(root=None) -> Path:
    """`root`, else $BANDING_RESULTS, else ./results."""
    return Path(root if root is not None else os.environ.get("BANDING_RESULTS", "results")).expanduser()


def config_hash(config: dict) -> str:
    """Hash of what decides a run; "paths" and "machine" (where the data lies, how fast it is read) are left out."""
    ident = {k: v for k, v in config.items() if k not in ("paths", "machine")}
    return hashlib.sha1(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_dir(config: dict, root=None) -> Path:
    """The folder of the run that `config` describes."""
    return results_root(root) / f"{config['preset']}-{config['profile']}-s{config['seed']}-{config_hash(config)}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_torch(obj, path: Path) -> None:
    atomic_write(path, lambda p: torch.save(obj, p))


def save_json(obj, path: Path) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=1, default=str)))


def load_torch(path: Path, what: str = "file"):
    """torch.load that reports a truncated or corrupt file as CorruptResults naming it."""
    try:
        if zipfile.is_zipfile(path):  # torch.save's format; torch.load itself skips the CRCs of the entries
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            if bad is not None:
                raise ValueError(f"CRC mismatch in {bad}")
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:
        raise CorruptResults(f"{what} {path} is truncated or corrupt ({type(err).__name__}: {err}); "
                             f"delete it to recompute") from err


@contextlib.contextmanager
def locked(folder: Path):
    """Hold an exclusive lock on `folder` (blocks while another process trains the same run)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass
class Run:
    """A finished run loaded from disk: config, metrics (history, final scores, provenance),
    final and initial weights of the tracked layers (CPU tensors)."""

    path: Path
    config: dict
    metrics: dict
    weights: dict
    init: dict

    @property
    def name(self) -> str:
        return self.config["preset"]

    def state_dict(self) -> dict:
        return load_torch(self.path / "model.pt", "model file")

    def model(self):
        """The trained model, in eval mode: the one way to rebuild a run's network."""
        from .networks import build

        model, _ = build(self.config, self.metrics["num_classes"])
        model.load_state_dict(self.state_dict())
        return model.eval()


def is_finished(folder: Path) -> bool:
    return (folder / "metrics.json").exists()


def load_run(folder) -> Run:
    """Load a finished run, verifying checksums and the format version."""
    folder = Path(folder)
    if not is_finished(folder):
        raise FileNotFoundError(f"{folder} holds no finished run (no metrics.json); train it first")
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
        if not isinstance(metrics, dict):
            raise ValueError(f"a JSON {type(metrics).__name__}, not an object")
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError (bytes that are not text), not an object
        raise CorruptResults(f"{folder / 'metrics.json'} is truncated or corrupt ({err}); delete the folder "
                             "to retrain") from err
    if metrics.get("format") != FORMAT:
        raise CorruptResults(f"{folder} was written by an incompatible version of banding_lib (format "
                             f"{metrics.get('format')}, this version reads {FORMAT}); delete it to retrain")
    for name, digest in metrics.get("sha256", {}).items():
        if not (folder / name).exists() or sha256(folder / name) != digest:
            raise CorruptResults(f"{folder / name} does not match the checksum in metrics.json (truncated, "
                                 "corrupt or replaced); delete the folder to retrain")
    blob = load_torch(folder / "weights.pt", "weights file")
    return Run(folder, metrics["config"], metrics, blob["final"], blob["init"])
