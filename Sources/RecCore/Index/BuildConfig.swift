/// Everything that changes what the index builder produces.
public struct BuildConfig: Sendable, Equatable {
    /// Items are split into this many shards, each built on its own queue.
    public var shards: Int = BuildConfig.defaultShards
    /// Neighbours kept per item (top-K).
    public var neighbors: Int = 50
    public var similarity: SimilarityKind = .auto
    /// `asymmetric`'s exponent a, `rp3beta`'s beta, `ease`'s lambda.
    public var asymmetricAlpha: Double = 0.5
    public var rp3Beta: Double = 0.5
    public var easeLambda: Double = 500
    /// Half-life of an event's weight, in days; 0 turns decay off.
    public var halfLifeDays: Double = 30
    public var weights = EventWeights()
    /// Longest history per user that counts; the most recent items are kept.
    /// Bounds the quadratic co-occurrence cost of wholesale accounts.
    public var maxHistory: Int = 500
    /// Fewest users who must share a pair before it counts.
    public var minSupport: Int = 1
    /// Item vectors get HNSW graphs (one per shard) from this many vectors on.
    public var hnswThreshold: Int = 50_000
    public var hnswM: Int = 16
    public var hnswEfConstruction: Int = 200
    /// Learned item vectors (ALS) for snapshots without embeddings; 0 = off.
    public var alsFactors: Int = 0
    public var alsIterations: Int = 10
    public var alsRegularization: Float = 0.01
    public var alsAlpha: Float = 1
    /// The factors a server learns by default (`als-factors`); the library's
    /// own default stays 0.
    public static let servedALSFactors = 32
    /// What `REC` without `mode=` does: `similarity auto` sets them when
    /// item vectors exist and blending them in wins on the holdout.
    public var recMode: RecMode = .cf
    public var vectorWeight: Float = 0.3
    /// Whether `similarity auto` may choose `recMode` (false when pinned).
    public var tunesRecMode = true

    public init() {}

    public var scorer: PairScorer { PairScorer(kind: similarity, alpha: asymmetricAlpha, beta: rp3Beta) }

    public static var defaultShards: Int { max(1, ProcessInfoCores.count) }
}

/// Online cores, without pulling Foundation's ProcessInfo into hot files.
enum ProcessInfoCores {
    static var count: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
