import RecCore

/// One configurable setting: its name in `recd.conf` and as `--name` on the
/// command line, its default as written in the file, and how to apply a value.
public struct Setting: Sendable {
    public let name: String
    public let defaultValue: String
    public let help: String
    let apply: @Sendable (inout ServerConfig, String) -> String?  // nil, or what was expected

    /// Applies `value`, or throws naming the setting and `origin`.
    func set(_ config: inout ServerConfig, _ value: String, origin: String) throws(ConfigError) {
        if let expected = apply(&config, value) {
            throw .badValue(name: name, value: value, expected: expected, origin: origin)
        }
        config.effective[name] = value
    }
}

public enum Settings {
    static func int(_ range: ClosedRange<Int>, _ set: @escaping @Sendable (inout ServerConfig, Int) -> Void)
        -> @Sendable (inout ServerConfig, String) -> String? {
        { config, value in
            guard let v = Int(value), range.contains(v) else {
                return "an integer from \(range.lowerBound) to \(range.upperBound)"
            }
            set(&config, v)
            return nil
        }
    }

    static func number(_ range: ClosedRange<Double>, _ set: @escaping @Sendable (inout ServerConfig, Double) -> Void)
        -> @Sendable (inout ServerConfig, String) -> String? {
        { config, value in
            guard let v = Double(value), v.isFinite, range.contains(v) else {
                return "a number from \(range.lowerBound) to \(range.upperBound)"
            }
            set(&config, v)
            return nil
        }
    }

    /// Every setting, in the order `recd.conf` documents them.
    public static let all: [Setting] = [
        Setting(name: "bind", defaultValue: "127.0.0.1", help: "address to listen on") { c, v in
            if v.isEmpty { return "an IP address" }
            c.bind = v
            return nil
        },
        Setting(name: "port", defaultValue: "7070", help: "TCP port, both dialects", apply: int(0...65535) { $0.port = $1 }),
        Setting(name: "threads", defaultValue: "0", help: "event-loop threads, 0 = one per core",
                apply: int(0...1024) { $0.threads = $1 }),
        Setting(name: "snapshot", defaultValue: "config/sample", help: "snapshot directory to serve") { c, v in
            if v.isEmpty { return "a directory" }
            c.snapshot = v
            return nil
        },
        Setting(name: "snapshot-root", defaultValue: "", help: "RELOAD only reads snapshots below this directory; empty = the snapshot's parent") { c, v in
            c.snapshotRoot = v
            return nil
        },
        Setting(name: "data-dir", defaultValue: "data", help: "event log and saved snapshots") { c, v in
            if v.isEmpty { return "a directory" }
            c.dataDir = v
            return nil
        },
        Setting(name: "appendfsync", defaultValue: "everysec", help: "event log fsync: always, everysec or no") { c, v in
            guard let policy = FsyncPolicy(rawValue: v.lowercased()) else { return "always, everysec or no" }
            c.appendFsync = policy
            return nil
        },
        Setting(name: "shards", defaultValue: "0", help: "index build shards, 0 = one per core",
                apply: int(0...1024) { $0.build.shards = $1 == 0 ? BuildConfig.defaultShards : $1 }),
        Setting(name: "hybrid-weight", defaultValue: "auto",
                help: "share of vector similarity in REC mode=hybrid; auto = the share similarity auto found best (else 0.3)") { c, v in
            if v == "auto" { c.hybridWeight = nil; return nil }
            return number(0...1) { $0.hybridWeight = Float($1) }(&c, v).map { "auto or \($0)" }
        },
        Setting(name: "hnsw-threshold", defaultValue: "50000", help: "build HNSW graphs from this many item vectors on",
                apply: int(1...Int(Int32.max)) { $0.build.hnswThreshold = $1 }),
        Setting(name: "hnsw-m", defaultValue: "16", help: "HNSW links per node and layer (2M on layer 0)",
                apply: int(2...100) { $0.build.hnswM = $1 }),
        Setting(name: "hnsw-ef-construction", defaultValue: "200", help: "HNSW candidates explored while building",
                apply: int(1...10_000) { $0.build.hnswEfConstruction = $1 }),
        Setting(name: "hnsw-ef", defaultValue: "100", help: "HNSW candidates per query (ef= overrides), 0 = exact scan",
                apply: int(0...10_000) { $0.hnswEf = $1 }),
        Setting(name: "als-factors", defaultValue: "32", help: "learn item vectors (ALS, in the background stage) when a snapshot has no embeddings, 0 = off",
                apply: int(0...1024) { $0.build.alsFactors = $1 }),
        Setting(name: "als-iterations", defaultValue: "10", help: "ALS sweeps",
                apply: int(1...1000) { $0.build.alsIterations = $1 }),
        Setting(name: "als-regularization", defaultValue: "0.01", help: "ALS L2 regularisation",
                apply: number(0...1000) { $0.build.alsRegularization = Float($1) }),
        Setting(name: "als-alpha", defaultValue: "1", help: "ALS confidence per unit of affinity",
                apply: number(0...100_000) { $0.build.alsAlpha = Float($1) }),
        Setting(name: "segment-rules", defaultValue: SegmentRules.defaultText,
                help: "RFM segments, first match wins: name:cond,cond;... (cond like r>=4)") { c, v in
            do { c.segmentRules = try SegmentRules(v) } catch { return "rules like champions:r>=4,f>=4;other: (\(error))" }
            return nil
        },
        Setting(name: "experiment", defaultValue: "",
                help: "an A/B experiment, repeatable: NAME variant:weight[:mode=hybrid,hybrid-weight=0.5] ...") { c, v in
            if v.isEmpty { return nil }
            do {
                let e = try Experiment(v)
                c.experiments.removeAll { $0.name == e.name }
                c.experiments.append(e)
            } catch { return "NAME variant:weight[:settings] variant:weight ... (\(error))" }
            return nil
        },
        Setting(name: "reload-shards", defaultValue: "0", help: "threads for builds while serving (RELOAD, SAVE, tuning), run below the event loops; 0 = every core",
                apply: int(0...1024) { $0.reloadShards = $1 }),
        Setting(name: "neighbors", defaultValue: "50", help: "similar items kept per item",
                apply: int(1...10_000) { $0.build.neighbors = $1 }),
        Setting(name: "similarity", defaultValue: "auto", help: "the item-item model: \(SimilarityKind.names); auto picks per snapshot") { c, v in
            guard let kind = SimilarityKind(rawValue: v.lowercased()) else { return SimilarityKind.names }
            c.build.similarity = kind
            return nil
        },
        Setting(name: "asymmetric-alpha", defaultValue: "0.5", help: "asymmetric cosine's exponent a: c_ij / (c_i^a c_j^(1-a))",
                apply: number(0...1) { $0.build.asymmetricAlpha = $1 }),
        Setting(name: "rp3-beta", defaultValue: "0.5", help: "rp3beta's popularity exponent beta",
                apply: number(0...2) { $0.build.rp3Beta = $1 }),
        Setting(name: "ease-lambda", defaultValue: "500", help: "ease's L2 regularisation lambda",
                apply: number(0.001...1e9) { $0.build.easeLambda = $1 }),
        Setting(name: "half-life-days", defaultValue: "30", help: "time decay half-life, 0 = no decay",
                apply: number(0...36_500) { $0.build.halfLifeDays = $1 }),
        Setting(name: "weight-view", defaultValue: "1", help: "weight of a view event",
                apply: number(0...1_000_000) { $0.build.weights.view = Float($1) }),
        Setting(name: "weight-cart", defaultValue: "3", help: "weight of a cart event",
                apply: number(0...1_000_000) { $0.build.weights.cart = Float($1) }),
        Setting(name: "weight-purchase", defaultValue: "5", help: "weight of a purchase event",
                apply: number(0...1_000_000) { $0.build.weights.purchase = Float($1) }),
        Setting(name: "max-history", defaultValue: "500", help: "most recent items per user that count",
                apply: int(1...1_000_000) { $0.build.maxHistory = $1 }),
        Setting(name: "min-support", defaultValue: "1", help: "users who must share a pair for it to count",
                apply: int(1...1_000_000) { $0.build.minSupport = $1 }),
        Setting(name: "max-line-bytes", defaultValue: "65536", help: "longest line-dialect command",
                apply: int(64...(1 << 30)) { $0.limits.maxLineBytes = $1 }),
        Setting(name: "max-request-bytes", defaultValue: "1048576", help: "largest RESP command, all arguments together",
                apply: int(64...(1 << 30)) { $0.limits.maxRequestBytes = $1 }),
        Setting(name: "max-args", defaultValue: "1024", help: "most arguments in one command",
                apply: int(1...1_000_000) { $0.limits.maxArgs = $1 }),
        Setting(name: "maxclients", defaultValue: "10000", help: "most simultaneous connections",
                apply: int(1...1_000_000) { $0.maxClients = $1 }),
        Setting(name: "requirepass", defaultValue: "", help: "password clients must send with AUTH; empty = none") { c, v in
            c.requirePass = v
            return nil
        },
        Setting(name: "timeout", defaultValue: "0", help: "close clients idle this many seconds, 0 = never",
                apply: int(0...(365 * 86_400)) { $0.idleTimeout = $1 }),
        Setting(name: "client-output-stall-seconds", defaultValue: "60",
                help: "close a client whose replies have gone unread this long, 0 = never",
                apply: int(0...(365 * 86_400)) { $0.outputStallSeconds = $1 }),
        Setting(name: "slowlog-log-slower-than", defaultValue: "10000", help: "log commands slower than this many microseconds, -1 = none",
                apply: int(-1...100_000_000) { $0.slowLogMicros = $1 }),
        Setting(name: "admin-port", defaultValue: "0", help: "HTTP port for /metrics (Prometheus) and /healthz, 0 = off",
                apply: int(0...65535) { $0.adminPort = $1 }),
        Setting(name: "max-clock-skew", defaultValue: "600", help: "seconds an EVENT ts= may lie past this machine's clock",
                apply: int(0...(366 * 86_400)) { $0.maxClockSkew = $1 }),
        Setting(name: "snapshot-keep", defaultValue: "3", help: "saved snapshots SAVE keeps in data-dir/snapshots, oldest deleted first",
                apply: int(1...10_000) { $0.snapshotKeep = $1 }),
        Setting(name: "cluster-config", defaultValue: "", help: "cluster map file (JSON: epoch, shards with slots, primary, replicas); empty = standalone") { c, v in
            c.clusterConfig = v
            return nil
        },
        Setting(name: "cluster-announce", defaultValue: "", help: "this node's host:port in the cluster map; empty = bind:port") { c, v in
            c.clusterAnnounce = v
            return nil
        },
        Setting(name: "min-replicas-to-write", defaultValue: "0", help: "a primary refuses writes while fewer of the slot's replicas are in sync",
                apply: int(0...100) { $0.minReplicasToWrite = $1 }),
        Setting(name: "cluster-replica-timeout", defaultValue: "500", help: "milliseconds a replica may take to log a forwarded write before it leaves the set",
                apply: int(10...600_000) { $0.clusterReplicaTimeoutMs = $1 }),
        Setting(name: "max-k", defaultValue: "1000", help: "largest k a query may ask for",
                apply: int(1...100_000) { $0.maxK = $1 }),
        Setting(name: "loglevel", defaultValue: "info", help: "debug, info, warn or error") { c, v in
            guard let level = Log.Level(name: v.lowercased()) else { return "debug, info, warn or error" }
            c.logLevel = level
            return nil
        },
    ]

    public static func named(_ name: String) -> Setting? { all.first { $0.name == name } }
}
