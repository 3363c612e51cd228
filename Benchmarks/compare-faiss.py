#!/usr/bin/env python3
"""recd's exact vector search against faiss IndexFlatIP, one query at a time
on one thread, on the same 100,000 random unit vectors of dimension 64 and
the same queries, in one run. Also checks recd's recall against faiss's
exact answers.

    pip install faiss-cpu
    Benchmarks/compare-faiss.py [--count 100000] [--dim 64] [--queries 1000]
"""
import argparse, os, re, struct, subprocess, sys, tempfile, time

try:
    import faiss
    import numpy as np
except ImportError as e:
    sys.exit(f"needs faiss-cpu and numpy (pip install faiss-cpu): {e}")


def write_f32(path, vectors):
    with open(path, "wb") as f:
        f.write(b"RECDVEC1" + struct.pack("<II", vectors.shape[1], vectors.shape[0]))
        for i, v in enumerate(vectors):
            name = str(i).encode()
            f.write(struct.pack("<I", len(name)) + name + v.astype("<f4").tobytes())


def make_data(count, dim, seed=0):
    """Random unit vectors and a generator for queries, the same for every script."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(-1, 1, (count, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data, rng


def arguments():
    """The options both vector comparisons take (compare-hnswlib.py adds --ef)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--recbench", default=".build/release/recbench")
    return ap


def main():
    a = arguments().parse_args()
    data, rng = make_data(a.count, a.dim)
    path = os.path.join(tempfile.mkdtemp(), "embeddings.f32")
    write_f32(path, data)

    out = subprocess.run([a.recbench, "vectors", "--input", path, "--queries", str(a.queries), "--k", str(a.k)],
                         capture_output=True, text=True, check=True).stdout
    recd_qps = float(re.search(r"exact, 1 shard\(s\): ([\d.]+) queries/s", out).group(1))
    recd_recall = re.search(r"recall@\d+ against brute force: ([\d.]+)", out).group(1)

    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(a.dim)
    index.add(data)
    queries = rng.uniform(-1, 1, (a.queries, a.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(a.queries):
            index.search(queries[i:i + 1], a.k)
        runs.append(a.queries / (time.perf_counter() - t0))
    faiss_qps = sorted(runs)[1]
    print(f"{a.count} x {a.dim} unit vectors, k={a.k}, one query at a time, one thread")
    print(f"recd exact (SIMD8 scan)     {recd_qps:10.0f} queries/s   recall vs brute force {recd_recall}")
    print(f"faiss IndexFlatIP           {faiss_qps:10.0f} queries/s   (median of 3)")
    print(f"ratio recd / faiss          {recd_qps / faiss_qps:10.2f}")


if __name__ == "__main__":
    main()
