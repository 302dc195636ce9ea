"""Command line of banding_lib.

  python -m banding_lib train book --profile cpu --jobs 2     (every run of the book: what `make runs` does)
  python -m banding_lib train PRESET [PRESET ...] --profile {smoke,cpu,gpu-small,gpu} --seed N [--results DIR]
                              [--data PATH] [--jobs J] [--set KEY=VALUE ...] [--quiet]
  python -m banding_lib scores --profile cpu [--out book/scores.csv]   (every score the book shows: `make scores`)
  python -m banding_lib pack [--dataset imagenette2-160] [--data PATH] [--out pack]   (the photo pack: `make pack`)
  python -m banding_lib presets
  python -m banding_lib scan MODEL [--checkpoint FILE | --run RESULTS_FOLDER] [--layer NAME ...]

--data PATH: a folder holding named photo sets (PATH/imagenette2-160/train/...) or an ImageFolder tree itself
(PATH/train/<class>/..., PATH/val/<class>/...). Default: $BANDING_DATA, else the checkout's data/ (see
banding_lib.data.data_root). Under torchrun (torchrun --nproc_per_node G [--nnodes N ...] -m banding_lib train
PRESET ...), `train` runs its presets one after another with DistributedDataParallel (NCCL on CUDA, gloo on CPU).
"""
from __future__ import annotations

import argparse
import json
import sys


def _train(args) -> int:
    import os

    from . import config, data, hardware, runner, train

    overrides = _parse_set(args.set)
    data_root = args.data
    if args.data is not None:
        if not os.path.isdir(os.path.expanduser(args.data)):
            raise data.DataNotFound(f"--data {args.data}: no such folder; give the folder that holds the photo sets "
                                    "(e.g. one with imagenette2-160/ inside) or an ImageFolder tree with train/ and val/ inside")
        if data.is_split_tree(args.data):  # the photos themselves: they become the run's data set
            overrides.setdefault("dataset", os.path.abspath(os.path.expanduser(args.data)))
            data_root = None
    if args.presets == ["book"]:  # every run the book shows, with its seeds, and the scale study's runs
        configs = config.book_configs(args.profile, data_root, **overrides)
    elif args.presets == ["study"]:  # every run of the scale study (config.STUDY)
        configs = [c for _, c in config.study_configs(args.profile, data_root)]
    else:
        configs = [config.resolve(p, args.profile, seed, data_root, **overrides) for p in args.presets for seed in args.seed]
    if not args.quiet:
        for prec in sorted({c["train"]["precision"] for c in configs}):
            print(hardware.precision_note(prec), file=sys.stderr)
    if args.jobs > 1 and len(configs) > 1 and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return runner.train_many(configs, args.results, jobs=args.jobs, progress=not args.quiet)
    runner.check_data(configs)
    for c in configs:
        print(train.train(c, args.results, progress=not args.quiet))
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
    from .article import found
    from .config import RUNS

    for name, spec in RUNS.items():
        print(f"{name:18s} {spec['about']}; article: {found(name)}")
    return 0


def _scores(args) -> int:
    from pathlib import Path

    from . import findings, results, scores, verdict

    code = scores.main(args.profile, args.out, args.results)
    # the result in one sentence and the scale, for the book's front page (intro.md includes it)
    frame = scores.load(args.profile, args.out)
    verdicts = verdict.table(frame)
    text = verdict.headline(verdicts) + "\n\n" + findings.profile_line(frame, verdicts, args.profile) + "\n"
    path = Path(args.out).with_name("result.md")
    results.atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    print(f"the result in one sentence -> {path}")
    return code


def _pack(args) -> int:
    from . import pack

    manifest = pack.write_pack(args.dataset, args.out, args.data, size=args.size, quality=args.quality, val=args.val,
                               progress=not args.quiet)
    print(f"pack: {pack.summary(manifest)} -> {args.out}")
    return 0


def _scan(args) -> int:
    import torch

    from . import pretrained

    if args.run:
        from . import results

        model = results.load_run(args.run).model()
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
    t.add_argument("--profile", default="cpu", help="smoke, cpu, gpu-small or gpu (default cpu)")
    t.add_argument("--seed", type=int, nargs="+", default=[0], help="one or more seeds (default 0)")
    t.add_argument("--results", default=None, help="results root (default $BANDING_RESULTS or ./results)")
    t.add_argument("--data", default=None, help="a folder holding photo sets by name, or an ImageFolder tree with "
                   "train/ and val/ inside (default $BANDING_DATA, else the checkout's data/)")
    t.add_argument("--jobs", type=int, default=1, help="runs trained in parallel, one process each")
    t.add_argument("--quiet", action="store_true", help="no progress bars (training and decoding)")
    t.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override a profile field or model keyword (repeatable), e.g. --set steps=40 "
                        "--set checkpoint_every=10; values are JSON (numbers, true/false, [lists]), else text")
    t.set_defaults(func=_train)
    sc = sub.add_parser("scores", help="every score the book shows, from the finished runs, into one CSV")
    sc.add_argument("--profile", default="cpu", help="smoke, cpu, gpu-small or gpu (default cpu)")
    sc.add_argument("--out", default="book/scores.csv", help="the CSV to write (default book/scores.csv)")
    sc.add_argument("--results", default=None, help="results root (default $BANDING_RESULTS or ./results)")
    sc.set_defaults(func=_scores)
    pk = sub.add_parser("pack", help="the photo pack: training photos and a fixed validation subset, re-encoded "
                        "small enough to travel with the checkout (read it with --data PACK)")
    pk.add_argument("--dataset", default="imagenette2-160", help="photo set name or path (default imagenette2-160)")
    pk.add_argument("--data", default=None, help="the folder holding the photo sets (default: as `train`)")
    pk.add_argument("--out", default="pack", help="the pack's folder, replaced if it holds a pack (default pack)")
    pk.add_argument("--size", type=int, default=128, help="px, short side resized then centre-cropped (default 128)")
    pk.add_argument("--quality", type=int, default=75, help="JPEG quality (default 75)")
    pk.add_argument("--val", type=int, default=1000, help="validation photos kept, class-stratified (default 1000)")
    pk.add_argument("--quiet", action="store_true", help="no progress bar")
    pk.set_defaults(func=_pack)
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
