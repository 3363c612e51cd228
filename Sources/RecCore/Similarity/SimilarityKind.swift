import Foundation

/// The item-item models. Every sparse one is computed on binary incidence
/// (a user counts once per pair, however often and however long ago they
/// met the items), as SAR and Mahout do: event weights and time decay
/// belong to the user's affinity, which REC multiplies in, not to the items'
/// likeness. (Cosine over weighted, decayed affinities, recd's old default,
/// let heavy repeat buyers dominate the norms: Online Retail leave-last-out
/// nDCG@10 0.069 against binary's 0.098; on MovieLens random 75/25 it was
/// ahead, 0.382 against 0.370, but both trail `auto`, so it was not kept.)
public enum SimilarityKind: String, Sendable, CaseIterable {
    /// c_ij / sqrt(c_i c_j). In [0, 1].
    case cosine
    /// c_ij / (c_i + c_j - c_ij). In [0, 1].
    case jaccard
    /// N c_ij / (c_i c_j): how much more often the pair occurs than chance.
    case lift
    /// Dunning's log-likelihood ratio G^2 on the 2x2 contingency table;
    /// 0 when the pair co-occurs less often than chance.
    case llr
    /// Asymmetric cosine (Aiolli 2013): c_ij / (c_i^a c_j^(1-a)); a = 0.5 is
    /// cosine, smaller a favours popular partners less.
    case asymmetric
    /// RP3beta (Paudel et al. 2017): the three-step random walk item -> user
    /// -> item, sum over shared users u of 1 / (c_i |I_u|), divided by
    /// c_j^beta to damp popular targets.
    case rp3beta
    /// TF-IDF-weighted cosine, as the `implicit` library's: each user's
    /// incidence weighted by idf_u = ln(items) - ln(1 + |I_u|), so users who
    /// have everything say little; cosine of the weighted item vectors.
    case tfidf
    /// BM25-weighted co-occurrence, as `implicit`'s (K1 100, B 0.8): the
    /// same idf, times each item's length normalisation
    /// (K1 + 1) / (K1 ((1 - B) + B c_i / mean c) + 1); a dot product, not
    /// normalised.
    case bm25
    /// EASE (Steck 2019): the closed-form linear item-item model
    /// B = I - P diag(1/diag P), P = (X'X + lambda I)^-1, diagonal 0
    /// (`EASESolver`); dense, so for catalogs up to `EASESolver.maxItems`.
    case ease
    /// Chosen per snapshot at build time by nDCG@10 on a holdout of each
    /// sampled user's latest items (`ModelSelection`).
    case auto

    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
    /// The models `NeighborBuilder` computes from co-occurrence.
    public static let sparse: [SimilarityKind] = [.cosine, .jaccard, .lift, .llr, .asymmetric, .rp3beta, .tfidf, .bm25]

    /// Models whose score for (i, j) differs from (j, i).
    public var isSymmetric: Bool { self != .asymmetric && self != .rp3beta }

    /// Whether shared users count with a weight of their own (`userWeights`),
    /// not just once.
    public var weighsUsers: Bool { self == .rp3beta || self == .tfidf || self == .bm25 }
    /// Whether the score needs a per-item factor (`itemFactors`).
    public var hasItemFactors: Bool { self == .tfidf || self == .bm25 }
}

/// A sparse model with its parameters: scores one ordered pair.
public struct PairScorer: Sendable {
    public var kind: SimilarityKind
    /// `asymmetric`'s a.
    public var alpha: Double
    /// `rp3beta`'s beta.
    public var beta: Double

    public init(kind: SimilarityKind, alpha: Double = 0.5, beta: Double = 0.5) {
        self.kind = kind
        self.alpha = alpha
        self.beta = beta
    }

    static let bm25K1 = 100.0, bm25B = 0.8

    /// What each user adds to `walk` for every pair they share, once per
    /// build: 1/|I_u| for RP3beta, idf_u^2 for TF-IDF and BM25; empty for
    /// the models that only count.
    public func userWeights(_ histories: UserHistories, itemCount: Int) -> [Float] {
        guard kind.weighsUsers else { return [] }
        return (0..<histories.userCount).map { u in
            let length = Double(histories.range(of: UInt32(u)).count)
            if kind == .rp3beta { return Float(1 / max(1, length)) }
            let idf = log(Double(max(1, itemCount))) - log1p(length)
            return Float(idf * idf)
        }
    }

    /// TF-IDF's weighted item norms, BM25's length normalisations; empty
    /// for the other models.
    public func itemFactors(inverted: ItemUsers, userWeights: [Float]) -> [Float] {
        let n = inverted.itemCount
        switch kind {
        case .tfidf:
            return (0..<n).map { i in
                var sum: Float = 0
                for r in Int(inverted.offsets[i])..<Int(inverted.offsets[i + 1]) { sum += userWeights[Int(inverted.users[r])] }
                return sum.squareRoot()
            }
        case .bm25:
            let mean = Double(inverted.users.count) / Double(max(1, n))
            return (0..<n).map { i in
                let c = Double(inverted.offsets[i + 1] - inverted.offsets[i])
                return Float((PairScorer.bm25K1 + 1) / (PairScorer.bm25K1 * ((1 - PairScorer.bm25B) + PairScorer.bm25B * c / max(mean, 1e-9)) + 1))
            }
        default:
            return []
        }
    }

    /// Row i's score for partner j.
    /// - Parameters:
    ///   - both: users who have both items (c_ij).
    ///   - walk: sum over those users of `userWeights`.
    ///   - countI, countJ: users who have each item (c_i, c_j).
    ///   - factorI, factorJ: `itemFactors` of i and j (TF-IDF, BM25).
    ///   - users: number of users N.
    @inline(__always)
    public func score(both: UInt32, walk: Float, countI: UInt32, countJ: UInt32, factorI: Float = 1, factorJ: Float = 1,
                      users: Int) -> Float {
        switch kind {
        case .cosine:
            return Float(Double(both) / (Double(countI) * Double(countJ)).squareRoot())
        case .jaccard:
            return Float(both) / Float(countI + countJ - both)
        case .lift:
            return Float(Double(users) * Double(both) / (Double(countI) * Double(countJ)))
        case .llr:
            return Float(PairScorer.logLikelihoodRatio(
                k11: Double(both), k12: Double(countI - both),
                k21: Double(countJ - both), k22: Double(users) - Double(countI) - Double(countJ) + Double(both)))
        case .asymmetric:
            return Float(Double(both) / (pow(Double(countI), alpha) * pow(Double(countJ), 1 - alpha)))
        case .rp3beta:
            return Float(Double(walk) / (Double(countI) * pow(Double(countJ), beta)))
        case .tfidf:
            let d = factorI * factorJ
            return d > 0 ? min(1, walk / d) : 0
        case .bm25:
            return walk * factorI * factorJ
        case .ease, .auto:
            return 0
        }
    }

    @inline(__always)
    static func xLogX(_ x: Double) -> Double { x > 0 ? x * log(x) : 0 }

    /// Shannon entropy (unnormalised) of counts, as in Dunning 1993.
    @inline(__always)
    static func entropy(_ a: Double, _ b: Double) -> Double { xLogX(a + b) - xLogX(a) - xLogX(b) }

    public static func logLikelihoodRatio(k11: Double, k12: Double, k21: Double, k22: Double) -> Double {
        // Only positive association makes a recommendation.
        if k11 * (k21 + k22) <= k21 * (k11 + k12) { return 0 }
        let row = entropy(k11 + k12, k21 + k22)
        let column = entropy(k11 + k21, k12 + k22)
        let matrix = xLogX(k11 + k12 + k21 + k22) - xLogX(k11) - xLogX(k12) - xLogX(k21) - xLogX(k22)
        return max(0, 2 * (row + column - matrix))
    }
}
