#!/usr/bin/env python3
"""recd against the `implicit` library's item-item models, in one run.

Build: recd's full build (parse + index, `recbench build`) against
implicit's CosineRecommender.fit alone (loading excluded: in its favour),
single-threaded and with its default threads.

Quality: the identical leave-last-out split `recbench quality` uses (each
user's most recent distinct item is held out; users with fewer than two
distinct items are skipped; ties in time go to the later row), HitRate@k
and nDCG@k for implicit's cosine, BM25 and TF-IDF (K=50) next to recd's.

    pip install implicit
    Benchmarks/compare-implicit.py --snapshot /tmp/retail [--k 10] [--runs 3]
"""
import argparse, math, os, re, statistics, subprocess, sys, time, warnings
from datetime import datetime, timezone

try:
    import numpy as np
    import scipy.sparse as sp
    import threadpoolctl
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
except ImportError as e:
    sys.exit(f"needs implicit (pip install implicit): {e}")

warnings.filterwarnings("ignore", message="Method expects CSR input")

WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}


def parse_time(text):
    if re.fullmatch(r"-?\d+", text):
        v = int(text)
        return v // 1000 if abs(v) >= 100_000_000_000 else v
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def load(snapshot):
    users, items, rows = {}, {}, []
    with open(os.path.join(snapshot, "events.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name.strip().lower(): i for i, name in enumerate(header)}
        for n, line in enumerate(f):
            p = line.rstrip("\n").split("\t")
            if len(p) < len(header) or p[col["type"]] not in WEIGHTS:
                continue
            u = users.setdefault(p[col["user"]], len(users))
            i = items.setdefault(p[col["item"]], len(items))
            rows.append((u, i, WEIGHTS[p[col["type"]]], parse_time(p[col["timestamp"]]), n))
    return users, items, rows


def matrix(rows, n_users, n_items, skip=None):
    data = {}
    for u, i, w, _, _ in rows:
        if skip is not None and skip.get(u) == i:
            continue
        data[(u, i)] = data.get((u, i), 0.0) + w
    keys = list(data)
    return sp.csr_matrix(([data[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
                         shape=(n_users, n_items), dtype=np.float32)


def leave_last_out(rows, n_users):
    latest, distinct = {}, {}
    for u, i, _, t, n in rows:
        distinct.setdefault(u, set()).add(i)
        if u not in latest or (t, n) > latest[u][0]:
            latest[u] = ((t, n), i)
    return {u: latest[u][1] for u in latest if len(distinct[u]) >= 2}


def recd(binary, args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, check=True).stdout
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshot", default="/tmp/retail")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--recbench", default=".build/release/recbench")
    a = ap.parse_args()

    t0 = time.perf_counter()
    users, items, rows = load(a.snapshot)
    full = matrix(rows, len(users), len(items))
    load_seconds = time.perf_counter() - t0
    print(f"snapshot {a.snapshot}: {len(rows)} events, {len(users)} users, {len(items)} items")

    # Build time, medians of --runs, all in this one run. The three are
    # interleaved run by run, so a slow minute on a noisy machine hits all.
    labels = ("implicit cosine fit, 1 thread", "implicit cosine fit, default threads")
    recd_times, recd_index_times = [], []
    timings = {label: [] for label in labels}
    for _ in range(a.runs):
        out = recd(a.recbench, ["build", "--snapshot", a.snapshot, "--queries", "1000"])
        total = float(re.search(r"^total \(wall\)\s+([\d.]+)", out, re.M).group(1))
        parse = float(re.search(r"^parse\+intern\s+([\d.]+)", out, re.M).group(1))
        recd_times.append(total)
        recd_index_times.append(total - parse)
        for label, threads in zip(labels, (1, 0)):
            model = CosineRecommender(K=50, num_threads=threads)
            with threadpoolctl.threadpool_limits(1 if threads == 1 else None):
                t0 = time.perf_counter()
                model.fit(full, show_progress=False)
                timings[label].append(time.perf_counter() - t0)
    rb = statistics.median(recd_times)
    ri = statistics.median(recd_index_times)
    runs = lambda ts: " ".join(f"{t:.3f}" for t in ts)
    print(f"\nbuild (median of {a.runs})                       seconds    runs")
    print(f"recd build (parse + index)                 {rb:10.3f}   {runs(recd_times)}")
    print(f"recd index from parsed events              {ri:10.3f}   {runs(recd_index_times)}")
    print(f"implicit: Python load + CSR matrix         {load_seconds:10.3f}   (not counted below)")
    for label, ts in timings.items():
        t = statistics.median(ts)
        print(f"{label:42s} {t:10.3f}   {runs(ts)}")
        print(f"{'':42s} recd build is {t / rb:.2f}x as fast, recd index {t / ri:.2f}x")

    # Quality on the identical split.
    held = leave_last_out(rows, len(users))
    train = matrix(rows, len(users), len(items), skip=held)
    test_users = np.array(sorted(held), dtype=np.int32)
    print(f"\nleave-last-out: {len(test_users)} test users, k={a.k}")
    print(f"{'model':28s} HitRate@{a.k}  nDCG@{a.k}")
    for name, cls in (("implicit cosine K=50", CosineRecommender), ("implicit bm25 K=50", BM25Recommender),
                      ("implicit tfidf K=50", TFIDFRecommender)):
        model = cls(K=50)
        model.fit(train, show_progress=False)
        ids, _ = model.recommend(test_users, train[test_users], N=a.k, filter_already_liked_items=True)
        hits, ndcg = 0, 0.0
        for row, u in zip(ids, test_users):
            ranks = np.where(row == held[int(u)])[0]
            if len(ranks):
                hits += 1
                ndcg += 1 / math.log2(ranks[0] + 2)
        print(f"{name:28s} {hits / len(test_users):.4f}      {ndcg / len(test_users):.4f}")
    out = recd(a.recbench, ["quality", "--snapshot", a.snapshot, "--split", "leave-last-out", "--k", str(a.k)])
    for line in out.splitlines():
        m = re.match(r"^(cosine|jaccard|lift|llr)\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+([\d.]+)", line)
        if m:
            print(f"{'recd ' + m.group(1):28s} {float(m.group(2)):.4f}      {float(m.group(3)):.4f}")


if __name__ == "__main__":
    main()
