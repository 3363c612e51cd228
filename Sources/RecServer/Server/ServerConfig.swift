import RecCore

/// Every setting of the daemon, with its default. `Settings.all` maps the
/// names used in `recd.conf` and on the command line onto these properties.
public struct ServerConfig: Sendable {
    /// Address to listen on; 127.0.0.1 keeps the service off the network.
    public var bind = "127.0.0.1"
    /// TCP port for both dialects; 0 picks a free port (tests).
    public var port = 7070
    /// Event-loop threads; 0 means one per core.
    public var threads = 0
    /// Snapshot directory served at start.
    public var snapshot = "config/sample"
    /// `RELOAD dir` is refused outside this directory (and `data-dir`); empty
    /// means the parent of `snapshot`.
    public var snapshotRoot = ""
    /// Event log (`events.log`), saved snapshots (`snapshots/`) and the
    /// `MANIFEST` (the snapshot to serve and the log records it holds) and
    /// the `forgotten` suppression list.
    public var dataDir = "data"
    public var appendFsync = FsyncPolicy.everysec
    /// Threads for builds while serving (RELOAD, SAVE, tuning); 0 means every core.
    public var reloadShards = 0
    /// Index build settings (shards, neighbours, similarity, decay, weights).
    /// The library's build settings, except that a server learns item
    /// vectors (ALS, 32 factors) for snapshots without embeddings, in the
    /// background stage, so VSIM and hybrid work on every snapshot.
    public var build: BuildConfig = {
        var b = BuildConfig()
        b.alsFactors = BuildConfig.servedALSFactors
        return b
    }()
    /// Framing limits: line length, request size, argument count.
    public var limits = RequestLimits()
    /// Connections beyond this many get an error and are closed.
    public var maxClients = 10_000
    /// Largest `k` a query may ask for.
    public var maxK = 1000
    public var logLevel = Log.Level.info
    /// When not empty, every command but AUTH and QUIT needs `AUTH password` first.
    public var requirePass = ""
    /// Close connections idle this many seconds; 0 keeps them.
    public var idleTimeout = 0
    /// Close a client whose unsent replies have not moved for this many
    /// seconds (it stopped reading); 0 = never.
    public var outputStallSeconds = 60
    /// Log commands slower than this many microseconds; -1 logs none.
    public var slowLogMicros = 10_000
    /// Port of the HTTP admin endpoint (/metrics, /healthz); 0 = off.
    public var adminPort = 0
    /// How far past this machine's clock an `EVENT ts=` may lie (seconds):
    /// clients' clocks drift, but a time years ahead is a mistake that would
    /// make every item due and become the index's "now" after a SAVE.
    public var maxClockSkew = 600
    /// The cluster map file (JSON, see `ClusterMap`); empty: standalone.
    public var clusterConfig = ""
    /// This node's address in the map; empty: bind:port.
    public var clusterAnnounce = ""
    /// A primary refuses writes while fewer replicas are in sync (Redis's setting).
    public var minReplicasToWrite = 0
    /// How long a replica may take to answer a forwarded write.
    public var clusterReplicaTimeoutMs = 500
    /// Saved snapshots SAVE keeps in data-dir/snapshots (the current one always stays).
    public var snapshotKeep = 3
    /// Share of the vector score in `REC mode=hybrid`.
    /// The vector share of REC's hybrid blend; nil takes the index's (what
    /// `similarity auto` found best on its holdout, else 0.3).
    public var hybridWeight: Float?
    /// Default HNSW candidates per query (`ef=` overrides); 0 = exact scan.
    public var hnswEf = 100
    /// How RFM scores name a segment (SEGMENT).
    public var segmentRules = SegmentRules.standard
    /// A/B experiments (one `experiment` line each).
    public var experiments: [Experiment] = []
    /// Each setting's effective value as text (default, file or flag), for `CONFIG GET`.
    public var effective: [String: String] = Dictionary(uniqueKeysWithValues: Settings.all.map { ($0.name, $0.defaultValue) })

    public init() {}

    public var resolvedSnapshotRoot: String {
        if !snapshotRoot.isEmpty { return snapshotRoot }
        return snapshot.lastIndex(of: "/").map { String(snapshot[..<$0]) } ?? "."
    }

    /// What serves first: cosine for `similarity auto`; the configured
    /// build follows in the background (`LiveService.tuneInBackground`).
    /// At start, when nothing serves yet, learned vectors wait for the
    /// background stage too; a RELOAD or SAVE learns them in its own build
    /// (the old index serves meanwhile), so VSIM never loses its vectors.
    public func firstStage(atStart: Bool) -> ServerConfig {
        var c = self
        if c.build.similarity == .auto { c.build.similarity = .cosine }
        if atStart { c.build.alsFactors = 0 }
        return c
    }

    public var resolvedThreads: Int { threads > 0 ? threads : BuildConfig.defaultShards }
}
