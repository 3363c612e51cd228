import Dispatch
import Foundation

/// EASE (Steck 2019), the closed-form linear item-item model:
/// P = (X'X + lambda I)^-1, B_ij = -P_ij / P_jj for i != j, B_ii = 0, where
/// X is the binary user-item matrix. B is dense, so it is solved for
/// catalogs up to `maxItems` (n^2 floats twice: 256 MB each at the limit,
/// about n^3 multiply-adds); beyond it `auto` keeps to the sparse models.
///
/// The linear algebra is hand-written (no packages): a blocked Cholesky
/// factorisation L L' = X'X + lambda I, then L^-1 and P = L^-T L^-1, each in
/// column strips of `strip` floats that stay in L1/L2 while rows stream
/// past, the strips spread over all cores, the inner loops on SIMD8<Float>.
public enum EASESolver {
    public static let maxItems = 8_000
    static let block = 128
    static let strip = 32

    /// Row i's top `k` partners j by B_ij (positive only), as a neighbour index.
    public static func neighbors(histories: UserHistories, inverted: ItemUsers, itemCount n: Int,
                                 lambda: Double, k: Int, threads: Int) -> NeighborIndex? {
        guard n > 0, n <= maxItems else { return nil }
        let gram = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { gram.deallocate() }
        self.gram(histories: histories, inverted: inverted, n: n, into: gram, threads: threads)
        for i in 0..<n { gram[i * n + i] += Float(lambda) }
        guard let p = inverse(gram, n: n, threads: threads) else { return nil }
        defer { p.deallocate() }
        var offsets = [UInt32](repeating: 0, count: n + 1)
        var rows = [[(UInt32, Float)]](repeating: [], count: n)
        let pp = SendablePointer(p)
        rows.withUnsafeMutableBufferPointer { out in
            let shared = SendablePointer(out.baseAddress!)
            parallel(threads) { t in
                let p = pp.pointer
                var heap = TopKHeap(capacity: k)
                var i = t
                while i < n {
                    // B_ij = -P_ij / P_jj: row i's weight for predicting j.
                    for j in 0..<n where j != i {
                        let b = -p[i * n + j] / p[j * n + j]
                        if b > 0 { heap.insert(UInt32(j), b) }
                    }
                    var row: [(UInt32, Float)] = []
                    heap.drainBestFirst { row.append(($0, $1)) }
                    shared.pointer[i] = row
                    i += threads
                }
            }
        }
        var ids: [UInt32] = [], scores: [Float] = []
        for i in 0..<n {
            for (j, s) in rows[i] {
                ids.append(j)
                scores.append(s)
            }
            offsets[i + 1] = UInt32(ids.count)
        }
        return NeighborIndex(offsets: offsets, ids: ids, scores: scores)
    }

    /// X'X on binary incidence: G_ij = users who have both i and j.
    static func gram(histories: UserHistories, inverted: ItemUsers, n: Int, into g: UnsafeMutablePointer<Float>, threads: Int) {
        g.initialize(repeating: 0, count: n * n)
        let out = SendablePointer(g)
        parallel(threads) { t in
            var i = t
            while i < n {
                let row = out.pointer + i * n
                for r in Int(inverted.offsets[i])..<Int(inverted.offsets[i + 1]) {
                    for h in histories.range(of: inverted.users[r]) { row[Int(histories.items[h])] += 1 }
                }
                i += threads
            }
        }
    }

    /// The inverse of the symmetric positive definite `a` (n x n, row-major;
    /// overwritten with its Cholesky factor), or nil if it is not positive
    /// definite. The caller deallocates the result.
    public static func inverse(_ a: UnsafeMutablePointer<Float>, n: Int, threads: Int) -> UnsafeMutablePointer<Float>? {
        guard cholesky(a, n: n, threads: threads) else { return nil }
        // Y = L^-1 (lower), then P = Y'Y.
        let y = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        invertLower(a, n: n, into: y, threads: threads)
        // L is no longer needed: its storage takes Y transposed, so P's
        // strips read rows of Y' contiguously.
        // In tiles, so both sides stay in cache.
        let tile = 32
        for i0 in stride(from: 0, to: n, by: tile) {
            for k0 in stride(from: 0, to: n, by: tile) {
                for i in i0..<min(i0 + tile, n) { for k in k0..<min(k0 + tile, n) { a[i * n + k] = y[k * n + i] } }
            }
        }
        gramOfLower(yt: a, y: y, n: n, threads: threads)
        return y
    }

    /// In-place Cholesky, lower triangle of row-major `a`: blocked
    /// right-looking, the trailing update (the O(n^3/3) part) spread over
    /// rows and cores, each entry a dot product of two contiguous rows of
    /// the current panel.
    public static func cholesky(_ a: UnsafeMutablePointer<Float>, n: Int, threads: Int) -> Bool {
        let m = SendablePointer(a)
        var k0 = 0
        while k0 < n {
            let k1 = min(k0 + block, n), width = k1 - k0
            for j in k0..<k1 {
                let rowJ = a + j * n + k0
                let d = a[j * n + j] - dot(rowJ, rowJ, j - k0)
                guard d > 0, d.isFinite else { return false }
                let root = d.squareRoot()
                a[j * n + j] = root
                for i in (j + 1)..<k1 { a[i * n + j] = (a[i * n + j] - dot(a + i * n + k0, rowJ, j - k0)) / root }
            }
            let kStart = k0
            parallel(threads) { t in
                let a = m.pointer
                var i = k1 + t
                while i < n {
                    let rowI = a + i * n + kStart
                    for j in kStart..<k1 { rowI[j - kStart] = (rowI[j - kStart] - dot(rowI, a + j * n + kStart, j - kStart)) / a[j * n + j] }
                    i += threads
                }
            }
            parallel(threads) { t in
                let a = m.pointer
                // Rows cost in proportion to their index: deal out pairs in
                // turn. A pair of rows against a pair of columns shares each
                // load between two dot products (the loads bound this loop).
                var i = k1 + 2 * t
                while i < n {
                    let rowI = a + i * n + kStart
                    let pair = i + 1 < n
                    let rowI2 = pair ? rowI + n : rowI
                    var j = k1
                    while j + 1 <= i {
                        let d = dot2x2(rowI, rowI2, a + j * n + kStart, a + (j + 1) * n + kStart, width)
                        a[i * n + j] -= d.0
                        a[i * n + j + 1] -= d.1
                        if pair {
                            a[(i + 1) * n + j] -= d.2
                            a[(i + 1) * n + j + 1] -= d.3
                        }
                        j += 2
                    }
                    while j <= i {
                        a[i * n + j] -= dot(rowI, a + j * n + kStart, width)
                        if pair { a[(i + 1) * n + j] -= dot(rowI2, a + j * n + kStart, width) }
                        j += 1
                    }
                    if pair { a[(i + 1) * n + i + 1] -= dot(rowI2, rowI2, width) }
                    i += 2 * threads
                }
            }
            k0 = k1
        }
        for i in 0..<n { for j in (i + 1)..<n { a[i * n + j] = 0 } }
        return true
    }

    /// Y = L^-1 by forward substitution on strips of `strip` columns: row i
    /// of a strip is e_i minus the sum over k < i of L_ik times row k of the
    /// strip, over L_ii. A strip's rows (n x 32 floats) stay in cache while
    /// L's rows stream past; strips are independent, so they go to all cores.
    static func invertLower(_ l: UnsafeMutablePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, threads: Int) {
        let lp = SendablePointer(l), yp = SendablePointer(y)
        let strips = (n + strip - 1) / strip
        parallel(threads) { t in
            let packed = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: n * (strip / 8))
            defer { packed.deallocate() }
            var s = t
            while s < strips {
                let c0 = s * strip, c1 = min(c0 + strip, n)
                packed.initialize(repeating: SIMD8(), count: n * (strip / 8))
                for i in c0..<n {
                    let li = lp.pointer + i * n
                    var acc = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                    for k in c0..<i {
                        let f = SIMD8<Float>(repeating: li[k]), row = packed + k * 4
                        acc.0 = acc.0.addingProduct(f, row[0])
                        acc.1 = acc.1.addingProduct(f, row[1])
                        acc.2 = acc.2.addingProduct(f, row[2])
                        acc.3 = acc.3.addingProduct(f, row[3])
                    }
                    var e = SIMD32<Float>()
                    if i < c1 { e[i - c0] = 1 }
                    let inv = 1 / li[i]
                    let out = packed + i * 4
                    out[0] = (e.lowHalf.lowHalf - acc.0) * inv
                    out[1] = (e.lowHalf.highHalf - acc.1) * inv
                    out[2] = (e.highHalf.lowHalf - acc.2) * inv
                    out[3] = (e.highHalf.highHalf - acc.3) * inv
                }
                for i in 0..<n {
                    let row = UnsafeRawPointer(packed + i * 4).assumingMemoryBound(to: Float.self)
                    for c in c0..<c1 { yp.pointer[i * n + c] = i >= c0 ? row[c - c0] : 0 }
                }
                s += threads
            }
        }
    }

    /// P = Y'Y into `y` (Y lower; `yt` holds Y'): P_ij = sum over k >= max(i, j)
    /// of Y_ki Y_kj, by strips of columns j as in `invertLower`, each strip
    /// for the rows above its end only, the rest mirrored.
    static func gramOfLower(yt: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int, threads: Int) {
        let ytp = SendablePointer(yt), yp = SendablePointer(y)
        let strips = (n + strip - 1) / strip
        // Strips read Y (rows k, their columns) and write P over Y: every
        // strip first copies its columns out, and all copies happen before
        // any write.
        let packedAll = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: strips * n * (strip / 8))
        defer { packedAll.deallocate() }
        let pp = SendablePointer(packedAll)
        parallel(threads) { t in
            var s = t
            while s < strips {
                let c0 = s * strip, c1 = min(c0 + strip, n)
                let packed = pp.pointer + s * n * (strip / 8)
                packed.initialize(repeating: SIMD8(), count: n * (strip / 8))
                for k in 0..<n {
                    let row = UnsafeMutableRawPointer(packed + k * 4).assumingMemoryBound(to: Float.self)
                    for c in c0..<c1 { row[c - c0] = yp.pointer[k * n + c] }
                }
                s += threads
            }
        }
        parallel(threads) { t in
            var s = t
            while s < strips {
                let c0 = s * strip, c1 = min(c0 + strip, n)
                let packed = pp.pointer + s * n * (strip / 8)
                // P is symmetric: rows below the strip are mirrored after.
                // Two rows at a time share each load of the strip; row i+1
                // may start at i, as Y_i,i+1 is exactly 0.
                var i = 0
                while i < c1 {
                    let yti = ytp.pointer + i * n
                    let pair = i + 1 < c1
                    let yti2 = pair ? yti + n : yti
                    var acc = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                    var acc2 = acc
                    // Y_ki is 0 for k < i, Y_kj for k < j.
                    for k in max(i, c0)..<n {
                        let row = packed + k * 4
                        let r0 = row[0], r1 = row[1], r2 = row[2], r3 = row[3]
                        let f = SIMD8<Float>(repeating: yti[k]), f2 = SIMD8<Float>(repeating: yti2[k])
                        acc.0 = acc.0.addingProduct(f, r0)
                        acc.1 = acc.1.addingProduct(f, r1)
                        acc.2 = acc.2.addingProduct(f, r2)
                        acc.3 = acc.3.addingProduct(f, r3)
                        acc2.0 = acc2.0.addingProduct(f2, r0)
                        acc2.1 = acc2.1.addingProduct(f2, r1)
                        acc2.2 = acc2.2.addingProduct(f2, r2)
                        acc2.3 = acc2.3.addingProduct(f2, r3)
                    }
                    for (r, a) in (pair ? [(i, acc), (i + 1, acc2)] : [(i, acc)]) {
                        let out = yp.pointer + r * n
                        for c in c0..<c1 {
                            let x = c - c0
                            out[c] = x < 8 ? a.0[x] : x < 16 ? a.1[x - 8] : x < 24 ? a.2[x - 16] : a.3[x - 24]
                        }
                    }
                    i += 2
                }
                s += threads
            }
        }
        // P_ij for i at or past j's strip end is P_ji, computed above.
        parallel(threads) { t in
            let p = yp.pointer
            var i = t
            while i < n {
                for j in 0..<min(i, n) where i >= min((j / strip + 1) * strip, n) { p[i * n + j] = p[j * n + i] }
                i += threads
            }
        }
    }

    /// (a.c, a.d, b.c, b.d) over `count` floats, each load used twice.
    @inline(__always)
    static func dot2x2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                       _ d: UnsafePointer<Float>, _ count: Int) -> (Float, Float, Float, Float) {
        var ac = SIMD8<Float>(), ad = SIMD8<Float>(), bc = SIMD8<Float>(), bd = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), rc = UnsafeRawPointer(c), rd = UnsafeRawPointer(d)
        var k = 0
        while k + 8 <= count {
            let va = ra.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            let vb = rb.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            let vc = rc.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            let vd = rd.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            ac = ac.addingProduct(va, vc)
            ad = ad.addingProduct(va, vd)
            bc = bc.addingProduct(vb, vc)
            bd = bd.addingProduct(vb, vd)
            k += 8
        }
        var out = (ac.sum(), ad.sum(), bc.sum(), bd.sum())
        while k < count {
            out.0 += a[k] * c[k]
            out.1 += a[k] * d[k]
            out.2 += b[k] * c[k]
            out.3 += b[k] * d[k]
            k += 1
        }
        return out
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var k = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while k + 16 <= count {
            s0 = s0.addingProduct(ra.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self),
                                  rb.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self))
            s1 = s1.addingProduct(ra.loadUnaligned(fromByteOffset: k * 4 + 32, as: SIMD8<Float>.self),
                                  rb.loadUnaligned(fromByteOffset: k * 4 + 32, as: SIMD8<Float>.self))
            k += 16
        }
        var s = (s0 + s1).sum()
        while k < count {
            s += a[k] * b[k]
            k += 1
        }
        return s
    }

    static func parallel(_ threads: Int, _ body: (Int) -> Void) {
        BuildThreads.run(max(1, threads), body)
    }
}

/// A raw pointer handed to parallel workers that write disjoint parts.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
