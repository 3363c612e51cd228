#!/usr/bin/env python3
"""recd's HNSW against hnswlib (M=16, ef_construction=200) on the same
random unit vectors and queries, one thread, in one run: build time, then
queries/s and recall@10 (against exact answers) over a sweep of ef.

    pip install hnswlib
    Benchmarks/compare-hnswlib.py [--count 100000] [--dim 64] [--queries 1000]
"""
import os, re, struct, subprocess, sys, tempfile, time

try:
    import hnswlib
    import numpy as np
except ImportError as e:
    sys.exit(f"needs hnswlib and numpy (pip install hnswlib): {e}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module
shared = import_module("compare-faiss")


def main():
    ap = shared.arguments()
    ap.add_argument("--ef", default="10,20,40,80,160,320")
    a = ap.parse_args()
    efs = [int(x) for x in a.ef.split(",")]
    data, _ = shared.make_data(a.count, a.dim)
    path = os.path.join(tempfile.mkdtemp(), "embeddings.f32")
    shared.write_f32(path, data)

    out = subprocess.run([a.recbench, "vectors", "--input", path, "--queries", str(a.queries), "--k", str(a.k),
                          "--hnsw", "--ef", a.ef], capture_output=True, text=True, check=True).stdout
    build = re.search(r"built in ([\d.]+) s", out).group(1)
    recd = {int(m.group(1)): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"hnsw ef=(\d+): ([\d.]+) queries/s, recall@\d+ ([\d.]+)", out)}

    # hnswlib on the same vectors; its own exact answers come from a brute-force pass.
    queries = np.random.default_rng(1).uniform(-1, 1, (a.queries, a.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :a.k]
    index = hnswlib.Index(space="ip", dim=a.dim)
    index.set_num_threads(1)
    t0 = time.perf_counter()
    index.init_index(max_elements=a.count, M=16, ef_construction=200, random_seed=42)
    index.add_items(data, np.arange(a.count), num_threads=1)
    hnsw_build = time.perf_counter() - t0
    print(f"{a.count} x {a.dim} unit vectors, k={a.k}, M=16, ef_construction=200, one thread")
    print(f"build: recd {build} s, hnswlib {hnsw_build:.2f} s")
    print(f"{'ef':>5} {'recd q/s':>10} {'recd recall':>12} {'hnswlib q/s':>12} {'hnswlib recall':>15}")
    for ef in efs:
        index.set_ef(max(ef, a.k))
        t0 = time.perf_counter()
        hits = 0
        for i in range(a.queries):
            labels, _ = index.knn_query(queries[i:i + 1], k=a.k, num_threads=1)
            hits += len(set(labels[0]) & set(truth[i]))
        qps = a.queries / (time.perf_counter() - t0)
        r = recd.get(ef, (float("nan"), float("nan")))
        print(f"{ef:>5} {r[0]:>10.0f} {r[1]:>12.4f} {qps:>12.0f} {hits / (a.queries * a.k):>15.4f}")


if __name__ == "__main__":
    main()
