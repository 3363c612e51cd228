import Dispatch

/// Item vectors for exact nearest-neighbour search: normalised, one row per
/// item id (zeros where an item has no vector), each row padded to a
/// multiple of 8 floats so the dot product runs on `SIMD8<Float>` without a
/// scalar tail. Rows are contiguous, so shard s of S is simply the id range
/// [s n / S, (s + 1) n / S), searched on its own thread and merged.
public struct VectorIndex: Sendable {
    public let dimension: Int
    /// Floats per row (dimension rounded up to a multiple of 8).
    public let stride: Int
    public let count: Int
    public let values: [Float]
    public let hasVector: [Bool]
    public let vectorCount: Int
    /// HNSW graphs, one per shard (members i with i % S == s), when built.
    public private(set) var graphs: [HNSWGraph] = []

    public init(table: EmbeddingTable, itemCount: Int) {
        dimension = table.dimension
        stride = (table.dimension + 7) / 8 * 8
        count = itemCount
        var values = [Float](repeating: 0, count: itemCount * stride)
        var has = [Bool](repeating: false, count: itemCount)
        for r in 0..<table.count {
            let item = Int(table.items[r])
            guard item < itemCount else { continue }
            var norm: Float = 0
            for x in 0..<dimension { norm += table.values[r * dimension + x] * table.values[r * dimension + x] }
            norm = norm.squareRoot()
            guard norm > 0 else { continue }
            for x in 0..<dimension { values[item * stride + x] = table.values[r * dimension + x] / norm }
            has[item] = true
        }
        self.values = values
        self.hasVector = has
        self.vectorCount = has.lazy.filter { $0 }.count
    }

    public var memoryBytes: Int { values.capacity * 4 + hasVector.capacity + graphs.reduce(0) { $0 + $1.memoryBytes } }

    /// Builds one graph per shard, in parallel, each deterministic from `seed`.
    public mutating func buildGraphs(shards: Int, m: Int, efConstruction: Int, seed: UInt64 = 42) {
        let parts = max(1, shards)
        let members = (0..<parts).map { s in (0..<UInt32(count)).filter { Int($0) % parts == s && hasVector[Int($0)] } }
        let out = UnsafeMutablePointer<HNSWGraph?>.allocate(capacity: parts)
        out.initialize(repeating: nil, count: parts)
        defer { out.deinitialize(count: parts); out.deallocate() }
        let me = self
        let slots = GraphSlots(pointer: out)
        BuildThreads.run(parts) { s in
            slots.pointer[s] = HNSWGraph(vectors: me, members: members[s], m: m, efConstruction: efConstruction,
                                         seed: seed &+ UInt64(s))
        }
        graphs = (0..<parts).map { out[$0]! }
    }

    /// Approximate top-k through the graphs (each shard's, merged into
    /// `heap`, which is reset first), exploring `ef` candidates per graph.
    public func searchGraphs(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, scratch: HNSWScratch,
                             into heap: inout TopKHeap, accept: (Int) -> Bool) {
        heap.reset(keeping: k)
        for g in graphs {
            g.search(UnsafeRawPointer(query.baseAddress!), vectors: self, k: k, ef: ef, scratch: scratch, into: &heap, accept: accept)
        }
    }

    /// Dot product of two padded rows.
    @inline(__always)
    static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ stride: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var x = 0
        // addingProduct is a fused multiply-add (one instruction with FMA);
        // `acc += a * b` stays two, as Swift does not contract them.
        while x + 16 <= stride {
            acc0 = acc0.addingProduct(a.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self),
                                      b.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self))
            acc1 = acc1.addingProduct(a.loadUnaligned(fromByteOffset: (x + 8) * 4, as: SIMD8<Float>.self),
                                      b.loadUnaligned(fromByteOffset: (x + 8) * 4, as: SIMD8<Float>.self))
            x += 16
        }
        if x < stride {
            acc0 = acc0.addingProduct(a.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self),
                                      b.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self))
        }
        return (acc0 + acc1).sum()
    }

    /// Cosine of item `j` with a padded, normalised query.
    @inline(__always)
    public func similarity(_ j: Int, _ query: UnsafeRawPointer) -> Float {
        values.withUnsafeBytes { VectorIndex.dot($0.baseAddress! + j * stride * 4, query, stride) }
    }

    /// Rows below this many floats are scanned on the calling thread; past it
    /// the scan fans out over `shards` threads.
    public static let parallelThreshold = 2_000_000

    /// Exact top-k by cosine over items `accept` lets through, into `heap`
    /// (reset first). `query` is padded to `stride` and normalised; `heaps`
    /// is per-part working storage for the parallel scan, kept by the caller.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, shards: Int, heaps: inout [TopKHeap],
                       into heap: inout TopKHeap, accept: (Int) -> Bool) {
        heap.reset(keeping: k)
        let parts = count * stride >= VectorIndex.parallelThreshold ? max(1, shards) : 1
        if parts == 1 {
            scan(0..<count, query, &heap, accept)
            return
        }
        if heaps.count < parts { heaps += repeatElement(TopKHeap(capacity: k), count: parts - heaps.count) }
        for p in 0..<parts { heaps[p].reset(keeping: k) }
        // Each part fills its own heap in its own slot; the filter is read-only.
        let slots = UnsafeMutablePointer<TopKHeap>.allocate(capacity: parts)
        slots.initialize(from: heaps, count: parts)
        defer { slots.deinitialize(count: parts); slots.deallocate() }
        withoutActuallyEscaping(accept) { accept in
            let shared = Unshared(slots: slots, query: query, accept: accept)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                scan((p * count / parts)..<((p + 1) * count / parts), shared.query, &shared.slots[p], shared.accept)
            }
        }
        for p in 0..<parts {
            slots[p].drainBestFirst { id, s in heap.insert(id, s) }
            heaps[p] = slots[p]
        }
    }

    /// Dot products first; the filter runs only for scores that would make
    /// the heap, so a scan of n rows makes about k log n filter calls.
    func scan(_ range: Range<Int>, _ query: UnsafeBufferPointer<Float>, _ heap: inout TopKHeap, _ accept: (Int) -> Bool) {
        let q = UnsafeRawPointer(query.baseAddress!)
        let stride = self.stride
        values.withUnsafeBytes { raw in
            hasVector.withUnsafeBufferPointer { has in
                var row = raw.baseAddress! + range.lowerBound * stride * 4
                for j in range {
                    defer { row += stride * 4 }
                    guard has[j] else { continue }
                    let s = VectorIndex.dot(row, q, stride)
                    if heap.admits(UInt32(j), s) && accept(j) { heap.insert(UInt32(j), s) }
                }
            }
        }
    }
}

/// One result slot per shard build.
struct GraphSlots: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<HNSWGraph?>
}

/// What the parallel scan's workers share: distinct heap slots (one per
/// worker), the query and a read-only filter, all alive for the call.
struct Unshared: @unchecked Sendable {
    let slots: UnsafeMutablePointer<TopKHeap>
    let query: UnsafeBufferPointer<Float>
    let accept: (Int) -> Bool
}
