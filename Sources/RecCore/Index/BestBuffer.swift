/// The best `k` of a stream of (id, score) pairs, kept in a buffer of
/// `capacity` > k slots on raw storage: a newcomer at or above the floor is
/// appended, and a full buffer is cut back to its best k by a partial
/// quickselect, which raises the floor.
///
/// Why not a heap: the build offers each row thousands of candidates in no
/// particular order, and about k ln(n / k) of them beat a heap's root; every
/// such insert sifts through log k levels. Appending is a store, and a cut
/// costs O(capacity) once per capacity - k admissions, so the build's top-K
/// work drops to a few comparisons per admitted candidate.
///
/// "Better" is TopKHeap's order: a higher score, ties to the lower id, so the
/// kept set does not depend on the order candidates arrive in.
enum BestBuffer {
    /// Appends (id, score), cutting back to the best k when full. Callers
    /// test `score >= floor` first; `floor` only ever rises.
    @inline(__always)
    static func offer(_ id: UInt32, _ score: Float, ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>,
                      count: inout Int, capacity: Int, k: Int, floor: inout Float) {
        ids[count] = id
        scores[count] = score
        count += 1
        if count == capacity {
            floor = cut(ids: ids, scores: scores, count: count, k: k)
            count = k
        }
    }

    @inline(__always)
    static func better(_ sa: Float, _ a: UInt32, _ sb: Float, _ b: UInt32) -> Bool {
        sa > sb || (sa == sb && a < b)
    }

    /// Moves the best k of `count` pairs to the front (in no order) and
    /// returns the worst score among them. Requires 0 < k < count.
    static func cut(ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>, count: Int, k: Int) -> Float {
        @inline(__always) func swapAt(_ a: Int, _ b: Int) {
            let (ia, sa) = (ids[a], scores[a])
            ids[a] = ids[b]
            scores[a] = scores[b]
            ids[b] = ia
            scores[b] = sa
        }
        // Hoare partition around a median-of-three pivot until position
        // k - 1 separates the best k from the rest. Ids within a buffer are
        // distinct, so the order is strict and every pass shrinks the range.
        var lo = 0, hi = count - 1
        let target = k - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if better(scores[mid], ids[mid], scores[lo], ids[lo]) { swapAt(mid, lo) }
            if better(scores[hi], ids[hi], scores[lo], ids[lo]) { swapAt(hi, lo) }
            if better(scores[hi], ids[hi], scores[mid], ids[mid]) { swapAt(hi, mid) }
            let (pivotId, pivotScore) = (ids[mid], scores[mid])
            var i = lo, j = hi
            while i <= j {
                while better(scores[i], ids[i], pivotScore, pivotId) { i += 1 }
                while better(pivotScore, pivotId, scores[j], ids[j]) { j -= 1 }
                if i <= j {
                    swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        var worst = scores[0]
        for x in 1..<k { worst = min(worst, scores[x]) }
        return worst
    }

    /// Cuts to at most k pairs and sorts them best first. Returns how many.
    static func finish(ids: UnsafeMutablePointer<UInt32>, scores: UnsafeMutablePointer<Float>, count: Int, k: Int) -> Int {
        let n = min(count, k)
        if count > k { _ = cut(ids: ids, scores: scores, count: count, k: k) }
        // Heapify in place (each pair sifts up from where it already is), then
        // the heap's own sort.
        var heapCount = 0
        for x in 0..<n {
            TopKHeap.insert(ids[x], scores[x], ids: ids, scores: scores, count: &heapCount, capacity: n)
        }
        TopKHeap.sortBestFirst(ids: ids, scores: scores, count: n)
        return n
    }
}
