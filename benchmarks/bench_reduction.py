"""reduction: NMF of a 512x512x5x5 layer: reduce.nmf (batched, all neurons at once) vs a per-neuron scikit-learn
NMF loop (init nndsvda, default max_iter; with N threads the loop is shared by N worker processes, so both sides
use the same cores); target: >= 10x faster at equal error."""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from banding_lib import reduce
from bench_common import report

HELP = "batched torch NMF vs per-neuron scikit-learn NMF"

def _sklearn_nmf_errors(matrices) -> list[float]:
    """The baseline: scikit-learn's NMF, one neuron at a time (one BLAS thread); relative errors."""
    import warnings

    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")  # ConvergenceWarning: sklearn runs its 200 iterations on most neurons
    errors = []
    with threadpool_limits(1):
        for vn in matrices:
            nmf = NMF(n_components=3, init="nndsvda")  # default max_iter (200), tol, solver "cd"
            Sn = nmf.fit_transform(vn)
            errors.append(float(np.linalg.norm(vn - Sn @ nmf.components_) / np.linalg.norm(vn)))
    return errors


def _sklearn_loop(v: torch.Tensor, n_sub: int, threads: int, repeats: int) -> tuple[list[float], list[float]]:
    """The baseline timed: `repeats` times of the per-neuron loop over the first `n_sub` neurons of `v` (extrapolated
    to all 512), shared over as many worker processes as threads, and its relative errors on them."""
    from joblib import Parallel, delayed

    sk_times, sk_err = [], []
    subset = v[:n_sub].double().numpy()
    with Parallel(n_jobs=threads) as pool:  # the loop shared over as many worker processes as threads
        pool(delayed(_sklearn_nmf_errors)(subset[:1]) for _ in range(threads))  # start the workers
        for _ in range(repeats):
            t0 = time.perf_counter()
            parts = pool(delayed(_sklearn_nmf_errors)(part) for part in np.array_split(subset, threads))
            sk_times.append((time.perf_counter() - t0) * 512 / n_sub)  # extrapolated to all 512 neurons
            sk_err = [e for part in parts for e in part]
    return sk_times, sk_err


def main(args) -> int:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(512, 512, 5, 5, generator=g)  # a Gaussian stand-in for 5b's weight
    v = reduce.sign_split(w)  # (512, 25, 1024)
    n_sub, rows, summary = args.subset, [], {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch_times, full_times = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            S, Fc = reduce.nmf(v, 3, iters=args.iters)
            torch_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reduce.reduce_weight(w, iters=args.iters)
            full_times.append(time.perf_counter() - t0)
        torch_err = reduce.relative_error(v.double(), S.double(), Fc.double())  # (512,)
        sk_times, sk_err = _sklearn_loop(v, n_sub, threads, args.repeats)
        t_torch, t_sk = statistics.median(torch_times), statistics.median(sk_times)
        e_torch, e_torch_sub, e_sk = float(torch_err.mean()), float(torch_err[:n_sub].mean()), statistics.mean(sk_err)
        rows += [
            {"threads": threads, "method": f"reduce.nmf batched (<= {args.iters} sweeps, per-neuron stop)", "neurons_timed": 512,
             "seconds_512": t_torch, "mean_rel_error": e_torch, "error_first_subset": e_torch_sub,
             "speedup": t_sk / t_torch},
            {"threads": threads, "method": "reduce.reduce_weight (nmf + colours)", "neurons_timed": 512,
             "seconds_512": statistics.median(full_times), "mean_rel_error": e_torch, "error_first_subset": e_torch_sub,
             "speedup": t_sk / statistics.median(full_times)},
            {"threads": threads, "method": f"sklearn NMF per neuron (nndsvda), {threads} process(es)", "neurons_timed": n_sub,
             "seconds_512": t_sk, "mean_rel_error": None, "error_first_subset": e_sk, "speedup": 1.0},
        ]
        for sweeps in args.fewer_sweeps:  # how few sweeps already reach sklearn's error
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                S2, F2 = reduce.nmf(v, 3, iters=sweeps)
                times.append(time.perf_counter() - t0)
            err2 = reduce.relative_error(v.double(), S2.double(), F2.double())
            rows.append({"threads": threads, "method": f"reduce.nmf batched (<= {sweeps} sweeps)",
                         "neurons_timed": 512, "seconds_512": statistics.median(times),
                         "mean_rel_error": float(err2.mean()), "error_first_subset": float(err2[:n_sub].mean()),
                         "speedup": t_sk / statistics.median(times)})
        summary[f"{threads}_thread"] = {"speedup_nmf": round(t_sk / t_torch, 1),
                                        "speedup_reduce_weight": round(t_sk / statistics.median(full_times), 1),
                                        "error_ratio_torch_over_sklearn": round(e_torch_sub / e_sk, 4),
                                        "ok": t_sk / t_torch >= 10 and e_torch_sub <= e_sk * 1.01}
    report("reduction", rows, {
        "layer": "(512, 512, 5, 5) Gaussian weight, seed 0; V per neuron (25, 1024)",
        "sklearn_extrapolated": f"sklearn timed on the first {n_sub} neurons, times 512/{n_sub}; errors compared "
                                f"on those {n_sub}",
        "repeats": args.repeats, "target": "nmf >= 10x faster than sklearn at equal error", **summary})
    return 0


def add_arguments(p, alone: bool = True) -> None:
    """Its options; alone=False: those `all` takes too (`all` times 3 repeats at throughput's --threads)."""
    if alone:
        p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                       help="threads for torch and for sklearn's BLAS (default 1 2)")
    p.add_argument("--subset", type=int, default=64, help="neurons timed with sklearn (default 64, extrapolated)")
    p.add_argument("--iters", type=int, default=200, help="most sweeps of reduce.nmf (default 200, as reduce.reduce_weight)")
    p.add_argument("--fewer-sweeps", type=int, nargs="*", default=[30, 50],
                   help="also time reduce.nmf with these sweep counts (default 30 50)")
    if alone:
        p.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
