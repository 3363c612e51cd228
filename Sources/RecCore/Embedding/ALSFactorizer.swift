import Dispatch

/// Implicit-feedback matrix factorisation (Hu, Koren and Volinsky, 2008):
/// learns user and item vectors from affinities alone, so a snapshot with no
/// `embeddings.tsv` still gets item vectors for VSIM and hybrid scoring.
///
/// Each user-item affinity a becomes a preference 1 with confidence
/// 1 + alpha a; every unobserved pair is a preference 0 with confidence 1.
/// Alternating least squares: fix items and solve every user's regularised
/// weighted least squares, then the other way round. Each solve takes a few
/// conjugate-gradient steps from the previous vector (Takacs, Pilaszy and
/// Tikk, 2011) instead of inverting an f x f matrix, and only touches the
/// user's own items plus one shared Gram matrix. Users (then items) are
/// split over `shards` threads.
public struct ALSFactorizer: Sendable {
    public var factors = 32
    public var iterations = 10
    public var regularization: Float = 0.01
    public var alpha: Float = 1
    public var cgSteps = 3
    public var shards = BuildConfig.defaultShards
    public var seed: UInt64 = 42

    public init() {}

    public struct Model: Sendable {
        public let factors: Int
        public var users: [Float]
        public var items: [Float]
    }

    /// A CSR view of one side of the matrix: rows, their column ids and affinities.
    public struct Rows: Sendable {
        public let offsets: [UInt32]
        public let columns: [UInt32]
        public let values: [Float]
        public var count: Int { offsets.count - 1 }
    }

    /// Fits on `byUser` (and its transpose `byItem`); calls `progress` with
    /// the iteration number after each full sweep.
    public func fit(byUser: Rows, byItem: Rows, progress: (Int, Model) -> Void = { _, _ in }) -> Model {
        var rng = SplitMix64(seed: seed)
        let f = factors
        let scale = 0.1 / Float(f).squareRoot()
        var model = Model(factors: f,
                          users: (0..<(byUser.count * f)).map { _ in (rng.nextUnit() * 2 - 1) * scale },
                          items: (0..<(byItem.count * f)).map { _ in (rng.nextUnit() * 2 - 1) * scale })
        for iteration in 1...max(1, iterations) {
            solve(rows: byUser, fixed: model.items, into: &model.users)
            solve(rows: byItem, fixed: model.users, into: &model.items)
            progress(iteration, model)
        }
        return model
    }

    /// One half-sweep: every row's vector against the fixed other side.
    func solve(rows: Rows, fixed: [Float], into target: inout [Float]) {
        let f = factors
        // YtY + reg I, shared by every row's system.
        var gram = [Float](repeating: 0, count: f * f)
        let fixedCount = fixed.count / f
        for r in 0..<fixedCount {
            for a in 0..<f {
                let ya = fixed[r * f + a]
                if ya == 0 { continue }
                for b in 0..<f { gram[a * f + b] += ya * fixed[r * f + b] }
            }
        }
        for a in 0..<f { gram[a * f + a] += regularization }
        let parts = max(1, min(shards, rows.count))
        let (alpha, steps) = (alpha, cgSteps)
        target.withUnsafeMutableBufferPointer { out in
            let shared = SolveShared(out: out, fixed: fixed, gram: gram, rows: rows)
            BuildThreads.run(parts) { p in
                var x = [Float](repeating: 0, count: f), r = x, d = x, ad = x
                for row in stride(from: p, to: shared.rows.count, by: parts) {
                    ALSFactorizer.conjugateGradient(row: row, f: f, alpha: alpha, steps: steps, shared: shared,
                                                    x: &x, r: &r, d: &d, ad: &ad)
                }
            }
        }
    }

    /// A few CG steps on (YtY + Yt(C - I)Y + reg I) x = Yt C p for one row.
    static func conjugateGradient(row: Int, f: Int, alpha: Float, steps: Int, shared: SolveShared,
                                  x: inout [Float], r: inout [Float], d: inout [Float], ad: inout [Float]) {
        let begin = Int(shared.rows.offsets[row]), end = Int(shared.rows.offsets[row + 1])
        for a in 0..<f { x[a] = shared.out[row * f + a] }
        // r = b - A x
        for a in 0..<f {
            var s: Float = 0
            for b in 0..<f { s += shared.gram[a * f + b] * x[b] }
            r[a] = -s
        }
        for e in begin..<end {
            let col = Int(shared.rows.columns[e]) * f
            let c = 1 + alpha * shared.rows.values[e]
            var yx: Float = 0
            for a in 0..<f { yx += shared.fixed[col + a] * x[a] }
            let coefficient = c - (c - 1) * yx
            for a in 0..<f { r[a] += coefficient * shared.fixed[col + a] }
        }
        for a in 0..<f { d[a] = r[a] }
        var rsOld: Float = 0
        for a in 0..<f { rsOld += r[a] * r[a] }
        for _ in 0..<steps {
            if rsOld < 1e-20 { break }
            for a in 0..<f {
                var s: Float = 0
                for b in 0..<f { s += shared.gram[a * f + b] * d[b] }
                ad[a] = s
            }
            for e in begin..<end {
                let col = Int(shared.rows.columns[e]) * f
                let c = 1 + alpha * shared.rows.values[e]
                var yd: Float = 0
                for a in 0..<f { yd += shared.fixed[col + a] * d[a] }
                let coefficient = (c - 1) * yd
                for a in 0..<f { ad[a] += coefficient * shared.fixed[col + a] }
            }
            var dAd: Float = 0
            for a in 0..<f { dAd += d[a] * ad[a] }
            if dAd <= 0 { break }
            let step = rsOld / dAd
            var rsNew: Float = 0
            for a in 0..<f {
                x[a] += step * d[a]
                r[a] -= step * ad[a]
                rsNew += r[a] * r[a]
            }
            for a in 0..<f { d[a] = r[a] + (rsNew / rsOld) * d[a] }
            rsOld = rsNew
        }
        for a in 0..<f { shared.out[row * f + a] = x[a] }
    }

    /// The full objective, for tests and small matrices only: O(users x items x f).
    public func loss(_ model: Model, byUser: Rows) -> Double {
        let f = model.factors
        var total = 0.0
        let itemCount = model.items.count / f
        for u in 0..<byUser.count {
            var observed = [Float](repeating: 0, count: itemCount)
            for e in Int(byUser.offsets[u])..<Int(byUser.offsets[u + 1]) { observed[Int(byUser.columns[e])] = byUser.values[e] }
            for i in 0..<itemCount {
                var dot: Float = 0
                for a in 0..<f { dot += model.users[u * f + a] * model.items[i * f + a] }
                let p: Float = observed[i] > 0 ? 1 : 0
                let c = 1 + alpha * observed[i]
                total += Double(c * (p - dot) * (p - dot))
            }
        }
        let norms = (model.users + model.items).reduce(0) { $0 + Double($1 * $1) }
        return total + Double(regularization) * norms
    }
}

/// What the CG workers share: each writes only its own rows of `out`.
struct SolveShared: @unchecked Sendable {
    let out: UnsafeMutableBufferPointer<Float>
    let fixed: [Float]
    let gram: [Float]
    let rows: ALSFactorizer.Rows
}
