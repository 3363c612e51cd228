/// The best `k` of a stream of (id, score) pairs, kept in a buffer of
/// `capacity` > k slots on raw storage: a newcomer at or above the floor is
/// appended, and a full buffer is cut back to its best k by a partial
/// quickselect, which raises the floor.
///
/// Why not a heap: the build offers each row thousands of candidates in no
/// particular order, and about k ln(n / k) of them beat a heap's root; every
/// such insert sifts through log k levels. Appending is a store, and a cut
/// costs O(capacity) once per capacity - k admissions.
///
/// A pair is one `UInt64` key: the score's bits above the id's complement.
/// Scores are positive and finite (the build drops the rest), and positive
/// IEEE floats order like their bit patterns, so "better" (a higher score,
/// ties to the lower id, as TopKHeap) is one integer compare, and an offer
/// to another row's buffer touches one cache line, not an id line and a
/// score line.
enum BestBuffer {
    @inline(__always)
    static func key(_ id: UInt32, _ score: Float) -> UInt64 { UInt64(score.bitPattern) << 32 | UInt64(~id) }

    @inline(__always)
    static func id(_ key: UInt64) -> UInt32 { ~UInt32(truncatingIfNeeded: key) }

    @inline(__always)
    static func score(_ key: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: key >> 32)) }

    /// Appends `key`, cutting back to the best k when full. Callers test
    /// `score >= floor` first; `floor` only ever rises.
    @inline(__always)
    static func offer(_ key: UInt64, keys: UnsafeMutablePointer<UInt64>, count: inout Int, capacity: Int, k: Int,
                      floor: inout Float) {
        keys[count] = key
        count += 1
        if count == capacity {
            floor = score(cut(keys: keys, count: count, k: k))
            count = k
        }
    }

    /// Moves the best k of `count` keys to the front (in no order) and
    /// returns the worst of them. Requires 0 < k < count.
    static func cut(keys: UnsafeMutablePointer<UInt64>, count: Int, k: Int) -> UInt64 {
        // Hoare partition around a median-of-three pivot until position
        // k - 1 separates the best k from the rest. Keys within a buffer are
        // distinct (ids are), so every pass shrinks the range.
        var lo = 0, hi = count - 1
        let target = k - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if keys[mid] > keys[lo] { keys.swapAt(mid, lo) }
            if keys[hi] > keys[lo] { keys.swapAt(hi, lo) }
            if keys[hi] > keys[mid] { keys.swapAt(hi, mid) }
            let pivot = keys[mid]
            var i = lo, j = hi
            while i <= j {
                while keys[i] > pivot { i += 1 }
                while pivot > keys[j] { j -= 1 }
                if i <= j {
                    keys.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        return worst(keys: keys, count: k)
    }

    /// The worst of `count` > 0 keys.
    static func worst(keys: UnsafeMutablePointer<UInt64>, count: Int) -> UInt64 {
        var worst = keys[0]
        for x in 1..<count { worst = min(worst, keys[x]) }
        return worst
    }

    /// Cuts to at most k keys and sorts them best first. Returns how many.
    static func finish(keys: UnsafeMutablePointer<UInt64>, count: Int, k: Int) -> Int {
        let n = min(count, k)
        if count > k { _ = cut(keys: keys, count: count, k: k) }
        var kept = UnsafeMutableBufferPointer(start: keys, count: n)
        kept.sort(by: >)
        return n
    }
}

extension UnsafeMutablePointer where Pointee == UInt64 {
    @inline(__always)
    fileprivate func swapAt(_ a: Int, _ b: Int) {
        let t = self[a]
        self[a] = self[b]
        self[b] = t
    }
}
