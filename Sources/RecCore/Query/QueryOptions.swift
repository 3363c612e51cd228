/// Filters and limits common to every recommendation command.
public struct QueryOptions: Sendable, Equatable {
    public enum CategoryFilter: Sendable, Equatable {
        case any
        case only(UInt32)
        /// A category name the catalog does not know: nothing matches.
        case unknown
    }

    public enum Seen: Sendable, Equatable {
        case exclude
        case include
    }

    public var k: Int = 10
    public var category: CategoryFilter = .any
    public var inStockOnly = false
    public var seen: Seen = .exclude
    /// Top up short answers from popularity.
    public var fallback = true
    /// How REC scores: co-occurrence, item vectors, or a blend.
    public var mode: RecMode = .cf
    /// Share of the vector score in `hybrid` (the rest is co-occurrence).
    public var vectorWeight: Float = 0.3
    /// Candidates explored per HNSW graph (when the index has graphs);
    /// 0 forces the exact scan.
    public var ef: Int = 100

    public init(k: Int = 10) { self.k = k }
}

public enum RecMode: Sendable, Equatable {
    case cf, vec, hybrid
}

/// The answer to one query: items best first, the last `fallbackCount` of
/// them from popularity rather than from the user's or item's own signal.
/// Storage is reused query after query.
public struct ResultList {
    public private(set) var ids: [UInt32] = []
    public private(set) var scores: [Float] = []
    public internal(set) var fallbackCount = 0
    /// True when the user or item asked about is not in the index.
    public var unknownSubject = false

    public init() {
        ids.reserveCapacity(64)
        scores.reserveCapacity(64)
    }

    public var count: Int { ids.count }

    public mutating func clear() {
        ids.removeAll(keepingCapacity: true)
        scores.removeAll(keepingCapacity: true)
        fallbackCount = 0
        unknownSubject = false
    }

    /// Puts `ids` before the current items (REC due=1: due items lead).
    public mutating func prepend(ids first: [UInt32], scores firstScores: [Float]) {
        ids.insert(contentsOf: first, at: 0)
        scores.insert(contentsOf: firstScores, at: 0)
        if !first.isEmpty { unknownSubject = false }
    }

    @inline(__always)
    public mutating func append(_ id: UInt32, _ score: Float) {
        ids.append(id)
        scores.append(score)
    }
}
