import CEpoll
import Foundation

/// A hierarchical navigable small-world graph (Malkov and Yashunin, 2018)
/// over some rows of a `VectorIndex`, for approximate nearest neighbours
/// when an exact scan is too slow.
///
/// Nodes are local indices into `members` (the item ids this graph covers).
/// Layer 0 keeps up to 2M links per node, packed with the node's vector for
/// search (`HNSWLevel0`); higher layers keep up to M per node per layer, in
/// a flat array addressed by `upperStart`. Similarity is the dot product of normalised vectors;
/// "closer" means a higher dot. The build is sequential over `members` with
/// levels drawn from a seeded generator, so the same input gives the same graph.
public struct HNSWGraph: Sendable {
    public let m: Int
    public let members: [UInt32]
    let levels: [UInt8]
    /// Layer-0 links as built (for tests), node n's at `links0[n * 2M ..< n * 2M + degree]`.
    var links0: [UInt32] {
        (0..<members.count).flatMap { n in
            (0..<level0.maxDegree).map { x in x < level0.degree(n) ? level0.links(n)[x] : 0 }
        }
    }
    let level0: HNSWLevel0
    let upperStart: [Int]
    let upperLinks: [UInt32]
    let upperCount: [UInt8]
    public let entry: Int
    public let maxLevel: Int

    public var memoryBytes: Int {
        members.capacity * 4 + levels.capacity + level0.memoryBytes + upperStart.capacity * 8
            + upperLinks.capacity * 4 + upperCount.capacity
    }

    public init(vectors: VectorIndex, members: [UInt32], m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 42) {
        var builder = Builder(vectors: vectors, members: members, m: m, efConstruction: efConstruction, seed: seed)
        builder.build()
        self.m = m
        self.members = members
        levels = builder.levels
        level0 = HNSWLevel0(vectors: vectors, members: members, links0: builder.links0, count0: builder.count0,
                            m0: builder.m0)
        upperStart = builder.upperStart
        upperLinks = builder.upperLinks
        upperCount = builder.upperCount
        entry = builder.entry
        maxLevel = builder.maxLevel
    }

    /// The best `k` accepted members for a normalised, padded query, with
    /// `ef` candidates explored at layer 0 (ef >= k; higher is slower and
    /// more exact). Rejected members are traversed but not returned.
    public func search(_ query: UnsafeRawPointer, vectors: VectorIndex, k: Int, ef: Int, scratch: HNSWScratch,
                       into heap: inout TopKHeap, accept: (Int) -> Bool) {
        guard !members.isEmpty else { return }
        scratch.prepare(members.count)
        let level0 = level0, rowStride = vectors.stride
        func sim(_ node: Int) -> Float { VectorIndex.dot(level0.vector(node), query, rowStride) }
        var current = entry
        var best = sim(current)
        if maxLevel > 0 {
            for level in stride(from: maxLevel, to: 0, by: -1) {
                var changed = true
                while changed {
                    changed = false
                    let start = upperStart[current] + (level - 1) * m
                    for x in 0..<Int(upperCount[upperStart[current] / m + level - 1]) {
                        let next = Int(upperLinks[start + x])
                        let s = sim(next)
                        if s > best {
                            best = s
                            current = next
                            changed = true
                        }
                    }
                }
            }
        }
        HNSWGraph.searchLayer0(entry: current, entrySim: best, ef: max(ef, k), level0: level0, query: query,
                               stride: rowStride, scratch: scratch)
        for (s, node) in zip(scratch.resultSims, scratch.resultNodes) where accept(Int(members[Int(node)])) {
            heap.insert(members[Int(node)], s)
        }
    }

    /// Best-first search of layer 0 from one entry; leaves the `ef` best in
    /// `scratch.resultNodes` / `resultSims`. Raw pointers throughout: this
    /// loop is where a query spends its time.
    static func searchLayer0(entry: Int, entrySim: Float, ef: Int, level0: HNSWLevel0, query: UnsafeRawPointer,
                             stride: Int, scratch: HNSWScratch) {
        let candidates = scratch.candidates, results = scratch.results
        candidates.reset()
        results.reset()
        scratch.visit(entry)
        candidates.push(entrySim, UInt32(entry))
        results.push(-entrySim, UInt32(entry))  // a max-heap on -sim keeps the worst on top
        let stamps = scratch.stamps, generation = scratch.currentGeneration
        let vectorBytes = level0.vectorBytes
        let pending = scratch.pending(level0.maxDegree)
        var worst = -entrySim
        while let (s, node) = candidates.popBest() {
            if results.count >= ef && s < -worst { break }
            let links = level0.links(Int(node))
            let degree = level0.degree(Int(node))
            // First the unvisited neighbours, marked and their vectors asked
            // for (every cache line), then the distances, by which time the
            // first rows are arriving.
            var fresh = 0
            for x in 0..<degree {
                let next = links[x]
                if stamps[Int(next)] == generation { continue }
                stamps[Int(next)] = generation
                pending[fresh] = next
                fresh += 1
                let row = level0.vector(Int(next))
                var line = 0
                while line < vectorBytes {
                    crecd_prefetch(row + line)
                    line += 64
                }
            }
            for x in 0..<fresh {
                let next = pending[x]
                let sn = VectorIndex.dot(level0.vector(Int(next)), query, stride)
                if results.count < ef {
                    candidates.push(sn, next)
                    results.push(-sn, next)
                    worst = results.topKey
                } else if sn > -worst {
                    candidates.push(sn, next)
                    results.replaceTop(-sn, next)
                    worst = results.topKey
                }
            }
        }
        scratch.resultNodes.removeAll(keepingCapacity: true)
        scratch.resultSims.removeAll(keepingCapacity: true)
        while let (negative, node) = results.popBest() {
            scratch.resultNodes.append(node)
            scratch.resultSims.append(-negative)
        }
    }

    /// Sequential construction state.
    struct Builder {
        let vectors: VectorIndex
        let members: [UInt32]
        let m: Int, m0: Int, efConstruction: Int
        var levels: [UInt8]
        var links0: [UInt32]
        var count0: [UInt8]
        var upperStart: [Int]
        var upperLinks: [UInt32] = []
        var upperCount: [UInt8] = []
        var entry = 0
        var maxLevel = 0
        var scratch = HNSWScratch()

        init(vectors: VectorIndex, members: [UInt32], m: Int, efConstruction: Int, seed: UInt64) {
            self.vectors = vectors
            self.members = members
            self.m = max(2, m)
            self.m0 = 2 * max(2, m)
            self.efConstruction = max(efConstruction, m)
            var rng = SplitMix64(seed: seed)
            let mL = 1 / log(Double(max(2, m)))
            levels = members.map { _ in
                let u = max(Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-12)
                return UInt8(min(15, Int(-log(u) * mL)))
            }
            links0 = [UInt32](repeating: 0, count: members.count * 2 * max(2, m))
            count0 = [UInt8](repeating: 0, count: members.count)
            // Upper-layer slots: node n owns levels[n] blocks of m links, from upperStart[n].
            var start = [Int](repeating: 0, count: members.count)
            var total = 0
            for n in 0..<members.count {
                start[n] = total
                total += Int(levels[n]) * max(2, m)
            }
            upperStart = start
            upperLinks = [UInt32](repeating: 0, count: total)
            upperCount = [UInt8](repeating: 0, count: total / max(2, m))
        }

        @inline(__always)
        func sim(_ a: Int, _ b: Int) -> Float {
            vectors.values.withUnsafeBytes { raw in
                VectorIndex.dot(raw.baseAddress! + Int(members[a]) * vectors.stride * 4,
                                raw.baseAddress! + Int(members[b]) * vectors.stride * 4, vectors.stride)
            }
        }

        /// Where node's links on `level` live: layer 0's in `links0`, the
        /// others' in `upperLinks`, from `start`, `count` of them.
        @inline(__always)
        func linkSlot(_ node: Int, _ level: Int) -> (start: Int, count: Int) {
            if level == 0 { return (node * m0, Int(count0[node])) }
            return (upperStart[node] + (level - 1) * m, Int(upperCount[upperStart[node] / m + level - 1]))
        }

        func neighbours(_ node: Int, _ level: Int) -> [UInt32] {
            if level == 0 {
                let s = node * m0
                return Array(links0[s..<(s + Int(count0[node]))])
            }
            let block = upperStart[node] / m + level - 1
            let s = upperStart[node] + (level - 1) * m
            return Array(upperLinks[s..<(s + Int(upperCount[block]))])
        }

        mutating func setNeighbours(_ node: Int, _ level: Int, _ list: [UInt32]) {
            if level == 0 {
                let s = node * m0
                for (x, v) in list.enumerated() { links0[s + x] = v }
                count0[node] = UInt8(list.count)
            } else {
                let block = upperStart[node] / m + level - 1
                let s = upperStart[node] + (level - 1) * m
                for (x, v) in list.enumerated() { upperLinks[s + x] = v }
                upperCount[block] = UInt8(list.count)
            }
        }

        /// The paper's neighbour-selection heuristic: take candidates best
        /// first, keeping one only if it is closer to the new node than to
        /// any already kept, which spreads links in different directions.
        func select(_ candidates: [(Float, UInt32)], _ limit: Int) -> [UInt32] {
            var kept: [UInt32] = []
            for (s, c) in candidates.sorted(by: { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }) {
                if kept.count >= limit { break }
                if kept.allSatisfy({ sim(Int(c), Int($0)) < s }) { kept.append(c) }
            }
            return kept
        }

        /// Beam search on one layer from `entries`, returning up to `ef` (sim, node).
        mutating func searchLayer(_ q: Int, entries: [(Float, UInt32)], ef: Int, level: Int) -> [(Float, UInt32)] {
            scratch.prepare(members.count)
            scratch.candidates.reset()
            scratch.results.reset()
            for (s, e) in entries where !scratch.visited(Int(e)) {
                scratch.visit(Int(e))
                scratch.candidates.push(s, e)
                scratch.results.push(-s, e)
            }
            while let (s, node) = scratch.candidates.popBest() {
                if scratch.results.count >= ef && s < -scratch.results.topKey { break }
                // Unvisited neighbours first, their vectors asked for, then
                // the distances (as in the search); no array per expansion.
                let (start, count) = linkSlot(Int(node), level)
                let pending = scratch.pending(count)
                var fresh = 0
                (level == 0 ? links0 : upperLinks).withUnsafeBufferPointer { links in
                    vectors.values.withUnsafeBytes { rows in
                        for x in start..<(start + count) where !scratch.visited(Int(links[x])) {
                            let next = links[x]
                            scratch.visit(Int(next))
                            pending[fresh] = next
                            fresh += 1
                            let row = rows.baseAddress! + Int(members[Int(next)]) * vectors.stride * 4
                            var line = 0
                            while line < vectors.stride * 4 {
                                crecd_prefetch(row + line)
                                line += 64
                            }
                        }
                    }
                }
                for x in 0..<fresh {
                    let next = pending[x]
                    let sn = sim(q, Int(next))
                    if scratch.results.count < ef {
                        scratch.candidates.push(sn, next)
                        scratch.results.push(-sn, next)
                    } else if sn > -scratch.results.topKey {
                        scratch.candidates.push(sn, next)
                        scratch.results.replaceTop(-sn, next)
                    }
                }
            }
            var out: [(Float, UInt32)] = []
            while let (negative, node) = scratch.results.popBest() { out.append((-negative, node)) }
            return out
        }

        mutating func build() {
            guard !members.isEmpty else { return }
            entry = 0
            maxLevel = Int(levels[0])
            for q in 1..<members.count {
                let level = Int(levels[q])
                var current = entry
                var best = sim(q, current)
                // Greedy descent through the layers above the new node's.
                if maxLevel > level {
                    for l in stride(from: maxLevel, to: level, by: -1) {
                        var changed = true
                        while changed {
                            changed = false
                            for next in neighbours(current, l) {
                                let s = sim(q, Int(next))
                                if s > best { best = s; current = Int(next); changed = true }
                            }
                        }
                    }
                }
                var entries = [(best, UInt32(current))]
                for l in stride(from: min(level, maxLevel), through: 0, by: -1) {
                    let found = searchLayer(q, entries: entries, ef: efConstruction, level: l)
                    let limit = l == 0 ? m0 : m
                    let chosen = select(found, m)
                    setNeighbours(q, l, chosen)
                    for c in chosen {
                        let (start, count) = linkSlot(Int(c), l)
                        if count < limit {
                            // Room left: link back in place, no list to rebuild.
                            if l == 0 {
                                links0[start + count] = UInt32(q)
                                count0[Int(c)] += 1
                            } else {
                                upperLinks[start + count] = UInt32(q)
                                upperCount[upperStart[Int(c)] / m + l - 1] += 1
                            }
                            continue
                        }
                        var list = neighbours(Int(c), l)
                        list.append(UInt32(q))
                        let scored = list.map { (sim(Int(c), Int($0)), $0) }
                        list = select(scored, limit)
                        setNeighbours(Int(c), l, list)
                    }
                    entries = found
                }
                if level > maxLevel {
                    maxLevel = level
                    entry = q
                }
            }
        }
    }
}

/// Per-thread working memory for graph searches: a visited set cleared by
/// generation stamps, and the two heaps of best-first search. Raw buffers:
/// the search touches them once per visited node, and Swift arrays would
/// add a uniqueness check to every write.
public final class HNSWScratch: @unchecked Sendable {  // one per thread
    private(set) var stamps = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var capacity = 0
    private var generation: UInt32 = 0
    let candidates = PairHeap()
    let results = PairHeap()
    var resultNodes: [UInt32] = []
    var resultSims: [Float] = []

    public init() {}

    deinit {
        stamps.deallocate()
        pendingIds.deallocate()
    }

    func prepare(_ count: Int) {
        if capacity < count {
            stamps.deallocate()
            stamps = .allocate(capacity: count)
            stamps.initialize(repeating: 0, count: count)
            capacity = count
            generation = 0
        }
        generation &+= 1
        if generation == 0 {
            stamps.update(repeating: 0, count: capacity)
            generation = 1
        }
    }

    var currentGeneration: UInt32 { generation }

    private var pendingIds = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var pendingCapacity = 1

    /// Room for one node's unvisited neighbours.
    func pending(_ capacity: Int) -> UnsafeMutablePointer<UInt32> {
        if pendingCapacity < capacity {
            pendingIds.deallocate()
            pendingIds = .allocate(capacity: capacity)
            pendingCapacity = capacity
        }
        return pendingIds
    }

    @inline(__always) func visited(_ n: Int) -> Bool { stamps[n] == generation }
    @inline(__always) func visit(_ n: Int) { stamps[n] = generation }
}

/// A max-heap of (key, id) on raw storage that grows by doubling:
/// `popBest` takes the largest key.
final class PairHeap: @unchecked Sendable {  // owned by one scratch
    private var keys = UnsafeMutablePointer<Float>.allocate(capacity: 64)
    private var ids = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
    private var capacity = 64
    private(set) var count = 0

    deinit {
        keys.deallocate()
        ids.deallocate()
    }

    var topKey: Float { keys[0] }

    func reset() { count = 0 }

    @inline(__always)
    func push(_ key: Float, _ id: UInt32) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let p = (i - 1) / 2
            if keys[p] >= key { break }
            keys[i] = keys[p]
            ids[i] = ids[p]
            i = p
        }
        keys[i] = key
        ids[i] = id
    }

    func grow() {
        let k = UnsafeMutablePointer<Float>.allocate(capacity: capacity * 2)
        let d = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity * 2)
        k.update(from: keys, count: count)
        d.update(from: ids, count: count)
        keys.deallocate()
        ids.deallocate()
        keys = k
        ids = d
        capacity *= 2
    }

    @inline(__always)
    func popBest() -> (Float, UInt32)? {
        guard count > 0 else { return nil }
        let top = keys[0], topId = ids[0]
        count -= 1
        if count > 0 { siftDown(keys[count], ids[count]) }
        return (top, topId)
    }

    /// Replaces the top with (key, id): a push and a pop in one sift.
    @inline(__always)
    func replaceTop(_ key: Float, _ id: UInt32) { siftDown(key, id) }

    /// Puts (key, id) in the top's place and restores the heap order.
    @inline(__always)
    func siftDown(_ key: Float, _ id: UInt32) {
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            var c = l
            if l + 1 < count && keys[l + 1] > keys[l] { c = l + 1 }
            if keys[c] <= key { break }
            keys[i] = keys[c]
            ids[i] = ids[c]
            i = c
        }
        keys[i] = key
        ids[i] = id
    }
}
