"""book: wall time and peak memory of a command (default `make book`); --scratch: from empty caches into a
temporary book folder (trains everything); --skip records "not measured"."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench_common import report

HELP = "wall time and peak memory of `make book` (or --command)"

def main(args) -> int:
    if args.skip:
        report("book", [{"command": args.command, "wall_s": "not measured", "peak_rss_mb": "not measured"}])
        return 0
    cmd, env, cache = shlex.split(args.command), dict(os.environ), "warm: the user's result and decode caches"
    if args.scratch:  # empty caches and a temporary book folder: the committed book and the caches stay as they are
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="bench-book-"))
        env |= {"BANDING_RESULTS": str(tmp / "results"), "BANDING_CACHE": str(tmp / "cache")}
        cmd += [f"BOOK={tmp / 'book'}", f"OUT={tmp / 'out'}"]
        cache = f"from scratch: empty caches in {tmp} (kept, to be looked at or deleted)"
    timer = Path("/usr/bin/time")
    t0 = time.perf_counter()
    if timer.exists():  # GNU time -v: peak RSS of the largest process in the tree
        proc = subprocess.run([str(timer), "-v", *cmd], stderr=subprocess.PIPE, text=True, env=env)
        wall = time.perf_counter() - t0
        sys.stderr.write(proc.stderr[-4000:])
        peak_kb = next((int(line.split(":")[1]) for line in proc.stderr.splitlines()
                        if "Maximum resident set size" in line), None)
    else:  # resource's children maximum, the same measure
        import resource

        proc = subprocess.run(cmd, env=env)
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report("book_scratch" if args.scratch else "book",
           [{"command": shlex.join(cmd), "exit": proc.returncode, "wall_s": wall,
             "peak_rss_mb": peak_kb / 1024 if peak_kb else "unknown"}],
           {"caches": cache, "target": "cpu profile: <= 120 s warm, <= 3600 s from scratch, <= 4096 MB",
            "note": "peak RSS of the largest single process (GNU time -v), not the sum over processes"})
    return proc.returncode


def add_arguments(p, alone: bool = True) -> None:
    """Its options; alone=False: those `all` takes too (`all` skips the book unless --book)."""
    p.add_argument("--command", default="make book", help="the command to time (default 'make book')")
    if alone:
        p.add_argument("--skip", action="store_true", help="do not run it; record 'not measured'")
        p.add_argument("--scratch", action="store_true",
                       help="from scratch: empty result and decode caches, a temporary book folder (trains everything)")
