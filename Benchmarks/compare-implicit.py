#!/usr/bin/env python3
"""recd against the `implicit` library, on identical splits, in one run.

Quality: three protocols, each split made once here and given to both
sides (recd reads the training events as a snapshot and the held-out items
with `recbench quality --test`):

  random        per user, a random quarter of their distinct items held out
                (users with two or more; the protocol of SAR's published figures)
  last          each user's most recent distinct item held out (leave-last-out)
  time:DATE     everything before DATE trains; relevant are the items each
                returning user buys for the first time after it (several dates)

implicit's cosine, BM25 and TF-IDF (K=50) and ALS (its defaults, seeded) are
fitted on the training matrix (event-type weights view 1, cart 3,
purchase 5, summed); recd runs every model it has, `auto` (the default)
first. HitRate@k, Precision@k and nDCG@k over the same users.

Build: recd's first-stage build (`recbench build --similarity cosine`, what
serves while `auto` tunes) against implicit's CosineRecommender.fit alone
(loading excluded: in its favour).

    pip install implicit threadpoolctl
    Benchmarks/compare-implicit.py --snapshot /tmp/retail [--k 10] [--runs 3] [--dates 2011-10-01,2011-11-01]
"""
import argparse, math, os, random, re, statistics, subprocess, sys, tempfile, time, warnings
from datetime import datetime, timezone

try:
    import numpy as np
    import scipy.sparse as sp
    import threadpoolctl
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender
except ImportError as e:
    sys.exit(f"needs implicit (pip install implicit threadpoolctl): {e}")

warnings.filterwarnings("ignore")

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
    """Rows (user, item, type, time, line) with dense ids, and the names."""
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
            rows.append((u, i, p[col["type"]], parse_time(p[col["timestamp"]]), n))
    return list(users), list(items), rows


def split_random(rows, seed=42, share=0.75):
    rng = random.Random(seed)
    distinct = {}
    for u, i, _, _, _ in rows:
        distinct.setdefault(u, {})[i] = True
    test = {}
    for u in sorted(distinct):
        items = list(distinct[u])
        if len(items) < 2:
            continue
        rng.shuffle(items)
        keep = max(1, round(len(items) * share))
        if keep < len(items):
            test[u] = set(items[keep:])
    train = [r for r in rows if r[1] not in test.get(r[0], ())]
    return train, test


def split_last(rows):
    latest, distinct = {}, {}
    for u, i, _, t, n in rows:
        distinct.setdefault(u, set()).add(i)
        if u not in latest or (t, n) > latest[u][0]:
            latest[u] = ((t, n), i)
    test = {u: {latest[u][1]} for u in latest if len(distinct[u]) >= 2}
    train = [r for r in rows if r[1] not in test.get(r[0], ())]
    return train, test


def split_time(rows, cut):
    train = [r for r in rows if r[3] < cut]
    had = {}
    for u, i, _, _, _ in train:
        had.setdefault(u, set()).add(i)
    test = {}
    for u, i, kind, t, _ in rows:
        if t >= cut and kind == "purchase" and u in had and i not in had[u]:
            test.setdefault(u, set()).add(i)
    return train, test


def matrix(rows, n_users, n_items):
    data = {}
    for u, i, kind, _, _ in rows:
        data[(u, i)] = data.get((u, i), 0.0) + WEIGHTS[kind]
    keys = list(data)
    return sp.csr_matrix(([data[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
                         shape=(n_users, n_items), dtype=np.float32)


def score(recommended, test, k):
    hits = precision = ndcg = 0.0
    for u, row in recommended.items():
        relevant = test[u]
        found = [r for r, item in enumerate(row[:k]) if item in relevant]
        hits += 1 if found else 0
        precision += len(found) / k
        ideal = sum(1 / math.log2(r + 2) for r in range(min(k, len(relevant))))
        ndcg += sum(1 / math.log2(r + 2) for r in found) / ideal
    n = max(1, len(recommended))
    return hits / n, precision / n, ndcg / n


def implicit_models(train_matrix, test, k):
    users = np.array(sorted(u for u in test if train_matrix[u].nnz > 0), dtype=np.int32)
    out = []
    models = [("implicit cosine K=50", lambda: CosineRecommender(K=50)),
              ("implicit bm25 K=50", lambda: BM25Recommender(K=50)),
              ("implicit tfidf K=50", lambda: TFIDFRecommender(K=50)),
              ("implicit als (defaults)", lambda: AlternatingLeastSquares(random_state=42))]
    for name, make in models:
        model = make()
        with threadpoolctl.threadpool_limits(1):
            model.fit(train_matrix, show_progress=False)
        ids, _ = model.recommend(users, train_matrix[users], N=k, filter_already_liked_items=True)
        out.append((name, score({int(u): list(row) for u, row in zip(users, ids)}, test, k), len(users)))
    return out


def recd_models(recbench, train, test, users, items, k):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "events.tsv"), "w", encoding="utf-8") as f:
            f.write("user\titem\ttype\ttimestamp\n")
            for u, i, kind, t, _ in train:
                f.write(f"{users[u]}\t{items[i]}\t{kind}\t{t}\n")
        with open(os.path.join(d, "test.tsv"), "w", encoding="utf-8") as f:
            for u, relevant in test.items():
                for i in relevant:
                    f.write(f"{users[u]}\t{items[i]}\n")
        out = subprocess.run([recbench, "quality", "--snapshot", d, "--test", os.path.join(d, "test.tsv"), "--k", str(k)],
                             capture_output=True, text=True, check=True).stdout
    rows, chosen, tested = [], "", 0
    for line in out.splitlines():
        m = re.match(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+([\d.]+)", line)
        if m:
            rows.append(("recd " + m.group(1) + (" (default)" if m.group(1) == "auto" else ""),
                         (float(m.group(2)), float(m.group(3)), float(m.group(4)))))
        m = re.match(r"^\s+auto chose (.+) \(", line)
        if m:
            chosen = m.group(1)
        m = re.search(r"(\d+) test users", line)
        if m:
            tested = int(m.group(1))
    rows.sort(key=lambda r: not r[0].endswith("(default)"))
    return rows, chosen, tested


def build_times(a, full):
    labels = ("implicit cosine fit, 1 thread", "implicit cosine fit, default threads")
    recd_times, timings = [], {label: [] for label in labels}
    for _ in range(a.runs):
        # recd's first stage, what serves while `auto` tunes in the background.
        out = subprocess.run([a.recbench, "build", "--snapshot", a.snapshot, "--queries", "1000", "--similarity", "cosine"],
                             capture_output=True, text=True, check=True).stdout
        recd_times.append(float(re.search(r"^total \(wall\)\s+([\d.]+)", out, re.M).group(1)))
        for label, threads in zip(labels, (1, 0)):
            model = CosineRecommender(K=50, num_threads=threads)
            with threadpoolctl.threadpool_limits(1 if threads == 1 else None):
                t0 = time.perf_counter()
                model.fit(full, show_progress=False)
                timings[label].append(time.perf_counter() - t0)
    rb = statistics.median(recd_times)
    print(f"\nbuild (median of {a.runs})                       seconds")
    print(f"recd build (parse + index, first stage)    {rb:10.3f}")
    for label, ts in timings.items():
        print(f"{label:42s} {statistics.median(ts):10.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshot", default="/tmp/retail")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dates", default="", help="comma-separated split dates (default: where 60%%, 70%% and 80%% of the events lie before)")
    ap.add_argument("--recbench", default=".build/release/recbench")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()

    users, items, rows = load(a.snapshot)
    print(f"snapshot {a.snapshot}: {len(rows)} events, {len(users)} users, {len(items)} items")
    if not a.no_build:
        build_times(a, matrix(rows, len(users), len(items)))

    times = sorted(r[3] for r in rows)
    cuts = [parse_time(d) for d in a.dates.split(",") if d] or [times[int(len(times) * q)] for q in (0.6, 0.7, 0.8)]
    protocols = [("random 75/25", split_random(rows)), ("leave-last-out", split_last(rows))]
    for cut in cuts:
        day = datetime.fromtimestamp(cut, timezone.utc).strftime("%Y-%m-%d")
        protocols.append((f"time split {day}", split_time(rows, cut)))
    for name, (train, test) in protocols:
        train_matrix = matrix(train, len(users), len(items))
        theirs = implicit_models(train_matrix, test, a.k)
        ours, chosen, tested = recd_models(a.recbench, train, test, users, items, a.k)
        print(f"\n{name}: {len(train)} training events, {tested} test users (implicit {theirs[0][2]}), k={a.k}; auto chose {chosen}")
        print(f"{'model':32s} HitRate@{a.k}  Precision@{a.k}  nDCG@{a.k}")
        for label, (hr, p, ndcg) in ours[:1] + [(n, s) for n, s, _ in theirs] + ours[1:]:
            print(f"{label:32s} {hr:.4f}      {p:.4f}        {ndcg:.4f}")


if __name__ == "__main__":
    main()
