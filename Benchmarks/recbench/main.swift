import RecCore
#if canImport(Glibc)
import Glibc
#endif

// recbench: benchmarks and data tools for recd. One subcommand per file.

let usage = """
usage: recbench <command> [options]

  build   --snapshot DIR [--queries N] [--similarity S] [--shards N]
          index build time per phase, peak RSS, bytes per item, and
          in-process latency of SIM, REC, SESSION and POPULAR
  load    --snapshot DIR [--host H] [--port P] [--connections N] [--threads T]
          [--duration S | --requests N] [--mix sim:40,rec:50,session:10]
          [--pipeline P] [--dialect resp|line] [--rate R] [--k K] [--json]
          load test of a running server over real ids from its snapshot;
          --rate makes it open loop (latency from the scheduled send time)
  quality --snapshot DIR [--split leave-last-out|random:0.75] [--k 10] [--similarity S]
          holds out each user's last (or a random 25% of) items, builds on the
          rest, and scores REC: HitRate, Precision, Recall, nDCG, MAP, coverage
  movielens --input ml100k_ratings.tsv --out DIR
          converts MovieLens ratings into a snapshot (4-5 stars purchase, 3 cart, 1-2 view)
  gen     --users U --items I --events E --out DIR [--groups G] [--item-zipf 1.0]
          [--user-zipf 0.6] [--home-share 0.8] [--seed S]
          a synthetic snapshot: Zipf item popularity and user activity, users
          drawing mostly from a home group of items; 12-digit numeric ids
  redis-zsets --snapshot DIR [--neighbors 50]
          prints RESP ZADD sim:<item> commands of the snapshot's neighbour
          lists, for `| redis-cli --pipe` (the precomputed-lists baseline)
  vectors [--input embeddings.f32 | --count N --dim D] [--queries Q] [--k K]
          exact vector search speed (one thread, and over shards) and recall
  retail  --input online_retail.tsv --out DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--numeric-ids]
          converts UCI Online Retail into a recd snapshot (events.tsv, items.tsv)
"""

// The allocator policy recd runs with, so build figures are the daemon's.
Allocator.reuseFreedMemory()
var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    print(usage)
    exit(2)
}
arguments.removeFirst()
let options = Options(arguments)

switch command {
case "build": BuildBench.run(options)
case "load": LoadBench.run(options)
case "quality": QualityBench.run(options)
case "gen": SyntheticGenerator.run(options)
case "vectors": VectorBench.run(options)
case "redis-zsets": RedisZsets.run(options)
case "movielens": MovieLensConverter.run(options)
case "retail": RetailConverter.run(options)
case "-h", "--help", "help": print(usage)
default:
    printError("recbench: unknown command '\(command)'\n\(usage)")
    exit(2)
}
