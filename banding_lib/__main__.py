"""Command line of banding_lib.

  python -m banding_lib train book --profile cpu --jobs 2     (every run of the book)
  python -m banding_lib train PRESET [PRESET ...] --profile {smoke,cpu,gpu} --seed N [--results DIR] [--data PATH] [--jobs J]
                              [--set KEY=VALUE ...]
  python -m banding_lib presets
  python -m banding_lib scan MODEL [--checkpoint FILE | --run RESULTS_FOLDER] [--layer NAME ...]

Under torchrun, `train` runs one preset with DistributedDataParallel (gloo on CPU, NCCL on CUDA).
"""
from __future__ import annotations

import argparse
import json
import sys


def _train(args) -> int:
    from . import study
    from . import train as tr

    overrides = _parse_set(args.set)
    if args.presets == ["book"]:  # every run the book shows, with its seeds, and the scale study's runs
        configs = [tr.resolve(p, args.profile, seed, data_root=args.data, **overrides) for p, seed in tr.book_runs()]
        configs += [c for _, c in study.configs(args.profile, args.data)] if not overrides else []
    elif args.presets == ["study"]:  # every run of the scale study (banding_lib.study.POINTS)
        configs = [c for _, c in study.configs(args.profile, args.data)]
    else:
        pairs = [(p, seed) for p in args.presets for seed in args.seed]
        configs = [tr.resolve(p, args.profile, seed, data_root=args.data, **overrides) for p, seed in pairs]
    if args.jobs > 1 and len(configs) > 1:
        return tr.train_many(configs, args.results, jobs=args.jobs)
    for config in configs:
        folder = tr.train(config, args.results, progress=not args.quiet)
        print(folder)
    return 0


def _parse_set(items) -> dict:
    """["steps=40", "lr=0.1", "dataset=/data/x"] -> {"steps": 40, "lr": 0.1, "dataset": "/data/x"}: values
    are read as JSON (numbers, true/false, [lists]), anything else is text."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def _presets(args) -> int:
    from .train import all_presets

    for name, spec in all_presets().items():
        print(f"{name:18s} {spec['about']}")
    return 0


def _scan(args) -> int:
    import torch

    from . import pretrained

    if args.run:
        from . import results, train

        run = results.load_run(args.run)
        model, _ = train.build_model(run.config, run.metrics["num_classes"])
        model.load_state_dict(run.state_dict())
    else:
        model = pretrained.load_pretrained(args.model, checkpoint=args.checkpoint)
    from .layers import get_layer

    for name in args.layer:
        get_layer(model, name)  # an unknown name raises, listing the valid ones
    with torch.no_grad():
        rows = pretrained.scan(model)
    if args.layer:
        rows = [r for r in rows if any(r["name"] == n or r["name"].startswith(n + ".") for n in args.layer)]
    print(pretrained.format_scan(rows))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m banding_lib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train presets (skips runs whose results exist)")
    t.add_argument("presets", nargs="+", help="preset names (python -m banding_lib presets), 'book' for "
                   "every run the book shows, or 'study' for every run of the scale study")
    t.add_argument("--profile", default="cpu", help="smoke, cpu or gpu (default cpu)")
    t.add_argument("--seed", type=int, nargs="+", default=[0], help="one or more seeds (default 0)")
    t.add_argument("--results", default=None, help="results root (default $BANDING_RESULTS or ./results)")
    t.add_argument("--data", default=None, help="data root (default $BANDING_DATA or ./data)")
    t.add_argument("--jobs", type=int, default=1, help="runs trained in parallel, one process each")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a profile field or model keyword (repeatable), e.g. --set steps=40 "
                        "--set checkpoint_every=10; values are JSON (numbers, true/false, [lists]), else text")
    t.set_defaults(func=_train)
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(func=_presets)
    s = sub.add_parser("scan", help="banding score of every conv layer of a model")
    s.add_argument("model", nargs="?", default=None, help="googlenet, resnet50, vgg19 or alexnet (pretrained)")
    s.add_argument("--checkpoint", default=None, help="a local state-dict file instead of downloading")
    s.add_argument("--run", default=None, help="a results folder of this project instead")
    s.add_argument("--layer", nargs="+", default=[], help="only these layers (module paths, e.g. block5.b)")
    s.set_defaults(func=_scan)
    args = parser.parse_args(argv)
    if args.command == "scan" and not (args.model or args.run):
        parser.error("scan needs MODEL or --run")
    try:
        return args.func(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError, RuntimeError, OSError, ArithmeticError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
