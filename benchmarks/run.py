"""Benchmarks of banding_lib (run by `make bench`, not part of `make test`): this driver, and one module a
benchmark (benchmarks/bench_<name>.py, whose docstring says what it measures and its target):

  throughput  the real data pipeline against random tensors already in memory (cpu profile)
  reduction   batched torch NMF against a per-neuron scikit-learn loop
  book        wall time and peak memory of a command (default `make book`)
  cuda        the prepared GPU check (gpu-small and gpu profiles, streaming loader, MFU, 1-GPU torchrun)
  loader      img/s of the streaming DataLoader alone, by worker count and decoder
  train       img/s of the real training step per net and precision, against this CPU's matmul peaks
  all         throughput, reduction, cuda, and book (only with --book, else "not measured")

    python benchmarks/run.py NAME [options]      (python benchmarks/run.py NAME --help: its options)

Each prints a table headed by the machine (platform, CPU count, torch version, threads) and writes
benchmarks/out/<name>.json. Timings are medians over repeats; the machine may be shared, so the table
records the load average too.
"""
from __future__ import annotations

import argparse
import sys

import bench_book
import bench_cuda
import bench_loader
import bench_reduction
import bench_throughput
import bench_train

BENCHMARKS = {"throughput": bench_throughput, "reduction": bench_reduction, "book": bench_book, "cuda": bench_cuda,
              "loader": bench_loader, "train": bench_train}


def defaults(module, **given) -> argparse.Namespace:
    """A benchmark's own argument defaults (its add_arguments), with `given` on top."""
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return argparse.Namespace(**{**vars(parser.parse_args([])), **given})


def run_all(args) -> int:
    """throughput, reduction (3 repeats), the cuda check at its defaults, and the book (skipped unless --book)."""
    codes = [bench_throughput.main(args)]
    codes.append(bench_reduction.main(defaults(bench_reduction, threads=args.threads, subset=args.subset,
                                               iters=args.iters, repeats=3, fewer_sweeps=args.fewer_sweeps)))
    codes.append(bench_cuda.main(defaults(bench_cuda)))
    codes.append(bench_book.main(defaults(bench_book, command=args.command, skip=not args.book)))
    return max(codes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", required=True)
    for name, module in BENCHMARKS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
    every = sub.add_parser("all", help="throughput, reduction, cuda; book only with --book")
    bench_throughput.add_arguments(every)
    bench_reduction.add_arguments(every, alone=False)
    bench_book.add_arguments(every, alone=False)
    every.add_argument("--book", action="store_true", help="also time the book command (slow)")
    args = parser.parse_args(argv)
    return BENCHMARKS[args.bench].main(args) if args.bench != "all" else run_all(args)


if __name__ == "__main__":
    sys.exit(main())
