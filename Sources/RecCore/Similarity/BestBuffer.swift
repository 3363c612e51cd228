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

    /// Keeps `key` if its score is at least `floor`, cutting back to the
    /// best k when the buffer fills. `floor` starts at 0 (nothing yet: scores
    /// are positive) and only ever rises. `scratch` holds `capacity` keys.
    ///
    /// Without a branch on the floor test: about a third of a build's
    /// offers pass it, a coin flip the branch predictor kept losing. The key
    /// is written to the next free slot either way and the count advances
    /// only when it passes (the slot exists: a full buffer is cut at once).
    @inline(__always)
    static func offer(_ key: UInt64, keys: UnsafeMutablePointer<UInt64>, count: inout Int, capacity: Int, k: Int,
                      floor: inout Float, scratch: UnsafeMutablePointer<UInt64>) {
        keys[count] = key
        // Both below 2^63, so the sign of the difference is the comparison.
        let floorKey = UInt64(floor.bitPattern) << 32
        count &+= 1 &+ Int(truncatingIfNeeded: Int64(bitPattern: key &- floorKey) >> 63)
        if count == capacity {
            floor = score(cut(keys: keys, count: count, k: k, scratch: scratch))
            count = k
        }
    }

    /// Moves the best k of `count` keys to the front (in no order) and
    /// returns the worst of them. Requires 0 < k < count; `scratch` holds
    /// `count` keys.
    ///
    /// A quickselect that partitions out of place, between `keys` and
    /// `scratch`, without branches: every key is stored at both ends of the
    /// destination and the end it belongs to advances. An in-place Hoare
    /// partition mispredicts about every other comparison on these random
    /// keys; this one cut 100 keys to 50 in 0.3 us instead of 0.9 (perf: the
    /// cuts were a tenth of a build's samples).
    static func cut(keys: UnsafeMutablePointer<UInt64>, count: Int, k: Int,
                    scratch: UnsafeMutablePointer<UInt64>) -> UInt64 {
        // Invariant: keys[0 ..< lo] are among the best k; the rest of them
        // are in src[lo ..< hi].
        var src = keys, dst = scratch
        var lo = 0, hi = count
        while true {
            let need = k - lo, n = hi - lo
            if need == 0 { break }
            if need == n {
                if src != keys { (keys + lo).update(from: src + lo, count: n) }
                break
            }
            let a = src[lo], b = src[lo + n / 2], c = src[hi - 1]
            var threshold = max(min(a, b), min(max(a, b), c))  // median of three
            var greater = partition(src, lo, hi, above: threshold, into: dst)
            if greater == 0 {
                // The median was the range's largest key (n == 2, or repeats):
                // take the keys equal to it as the greater side instead.
                threshold -= 1
                greater = partition(src, lo, hi, above: threshold, into: dst)
            }
            if greater == n {
                // All keys equal (only repeats can do this): any `need` of them.
                if dst != keys { (keys + lo).update(from: dst + lo, count: need) }
                break
            }
            if greater >= need {
                hi = lo + greater
            } else {
                if dst != keys { (keys + lo).update(from: dst + lo, count: greater) }
                lo += greater
            }
            swap(&src, &dst)
        }
        return worst(keys: keys, count: k)
    }

    /// Writes src[lo ..< hi] to dst[lo ..< hi], keys above `threshold` first;
    /// returns how many are above. Keys are below 2^63 (positive float bits
    /// on top), so the sign of threshold - key is the comparison: computed
    /// as arithmetic, it stays branch-free (a `Bool` select became a branch).
    @inline(__always)
    private static func partition(_ src: UnsafeMutablePointer<UInt64>, _ lo: Int, _ hi: Int, above threshold: UInt64,
                                  into dst: UnsafeMutablePointer<UInt64>) -> Int {
        var l = lo, r = hi - 1
        for x in lo..<hi {
            let v = src[x]
            let minusAbove = Int(truncatingIfNeeded: (Int64(bitPattern: threshold) &- Int64(bitPattern: v)) >> 63)
            dst[l] = v
            dst[r] = v
            l &-= minusAbove
            r &-= 1 &+ minusAbove
        }
        return l - lo
    }

    /// The worst of `count` > 0 keys.
    static func worst(keys: UnsafeMutablePointer<UInt64>, count: Int) -> UInt64 {
        var worst = keys[0]
        for x in 1..<count { worst = min(worst, keys[x]) }
        return worst
    }

    /// Cuts to at most k keys and sorts them best first. Returns how many.
    static func finish(keys: UnsafeMutablePointer<UInt64>, count: Int, k: Int,
                       scratch: UnsafeMutablePointer<UInt64>) -> Int {
        let n = min(count, k)
        if count > k { _ = cut(keys: keys, count: count, k: k, scratch: scratch) }
        var kept = UnsafeMutableBufferPointer(start: keys, count: n)
        kept.sort(by: >)
        return n
    }
}
