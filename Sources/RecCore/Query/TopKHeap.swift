/// A fixed-capacity min-heap that keeps the best `capacity` (id, score)
/// pairs seen. "Better" is a higher score, ties going to the lower id, so
/// every answer is deterministic whatever order candidates arrive in.
///
/// Storage is allocated once; `reset` makes it reusable for the next query.
/// The heap operations are static functions over raw storage, called once
/// per operation with the arrays' buffers. (The build keeps its rows' best K
/// with `BestBuffer` instead: appending and cutting beat sifting there.)
public struct TopKHeap {
    public private(set) var ids: [UInt32]
    public private(set) var scores: [Float]
    public private(set) var count = 0
    public private(set) var capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        ids = [UInt32](repeating: 0, count: max(1, capacity))
        scores = [Float](repeating: 0, count: max(1, capacity))
    }

    /// Empties the heap and sets how many entries it keeps (at most its storage).
    public mutating func reset(keeping k: Int) {
        if k > ids.count {
            ids = [UInt32](repeating: 0, count: k)
            scores = [Float](repeating: 0, count: k)
        }
        capacity = k
        count = 0
    }

    /// Whether (a, sa) ranks below (b, sb).
    @inline(__always)
    static func worse(_ sa: Float, _ a: UInt32, _ sb: Float, _ b: UInt32) -> Bool {
        sa < sb || (sa == sb && a > b)
    }

    /// Whether `insert(id, score)` would keep the pair: lets a scan skip
    /// filter checks for the many candidates that cannot make the cut.
    @inline(__always)
    public func admits(_ id: UInt32, _ score: Float) -> Bool {
        capacity > 0 && (count < capacity || TopKHeap.worse(scores[0], ids[0], score, id))
    }

    /// - Complexity: O(log k).
    @inline(__always)
    public mutating func insert(_ id: UInt32, _ score: Float) {
        guard admits(id, score) else { return }
        let capacity = capacity
        // One uniqueness check per array per insert, not one per element moved.
        ids.withUnsafeMutableBufferPointer { i in
            scores.withUnsafeMutableBufferPointer { s in
                TopKHeap.insert(id, score, ids: i.baseAddress!, scores: s.baseAddress!, count: &count, capacity: capacity)
            }
        }
    }

    /// Empties the heap, calling `body` from best to worst.
    /// - Complexity: O(k log k).
    public mutating func drainBestFirst(_ body: (UInt32, Float) -> Void) {
        let total = count
        ids.withUnsafeMutableBufferPointer { i in
            scores.withUnsafeMutableBufferPointer { s in
                TopKHeap.sortBestFirst(ids: i.baseAddress!, scores: s.baseAddress!, count: total)
            }
        }
        count = 0
        for i in 0..<total { body(ids[i], scores[i]) }
    }

    /// Offers (id, score) to the heap in `ids[0..<count]`, `scores[0..<count]`
    /// that keeps at most `capacity` pairs.
    @inline(__always)
    static func insert(_ id: UInt32, _ score: Float, ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>,
                       count: inout Int, capacity: Int) {
        if count < capacity {
            var i = count
            count += 1
            while i > 0 {
                let parent = (i - 1) >> 1
                if !worse(score, id, scores[parent], ids[parent]) { break }
                ids[i] = ids[parent]
                scores[i] = scores[parent]
                i = parent
            }
            ids[i] = id
            scores[i] = score
            return
        }
        // Full: replace the root (the worst kept) only if the newcomer beats it.
        if capacity == 0 || !worse(scores[0], ids[0], score, id) { return }
        siftDown(id, score, ids: ids, scores: scores, count: count)
    }

    /// Puts (id, score) at the root's place and restores the heap order.
    @inline(__always)
    static func siftDown(_ id: UInt32, _ score: Float, ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>,
                         count: Int) {
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            var c = l
            let r = l + 1
            if r < count, worse(scores[r], ids[r], scores[l], ids[l]) { c = r }
            if !worse(scores[c], ids[c], score, id) { break }
            ids[i] = ids[c]
            scores[i] = scores[c]
            i = c
        }
        ids[i] = id
        scores[i] = score
    }

    /// Turns a heap of `count` pairs into a list sorted best first, in place:
    /// each step pops the worst into the slot the heap just gave up.
    static func sortBestFirst(ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>, count: Int) {
        var n = count
        while n > 1 {
            let worstId = ids[0], worstScore = scores[0]
            n -= 1
            siftDown(ids[n], scores[n], ids: ids, scores: scores, count: n)
            ids[n] = worstId
            scores[n] = worstScore
        }
    }
}
