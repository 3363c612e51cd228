import Foundation

/// The item-item models. Every sparse one is computed on binary incidence
/// (a user counts once per pair, however often and however long ago they
/// met the items), as SAR and Mahout do: event weights and time decay
/// belong to the user's affinity, which REC multiplies in, not to the items'
/// likeness. (Measured: cosine on weighted, decayed affinities let heavy
/// repeat buyers dominate the norms; Online Retail leave-last-out HitRate@10
/// 0.107 against binary's, see the README's quality table.)
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
    /// EASE (Steck 2019): the closed-form linear item-item model
    /// B = I - P diag(1/diag P), P = (X'X + lambda I)^-1, diagonal 0
    /// (`EASESolver`); dense, so for catalogs up to `EASESolver.maxItems`.
    case ease
    /// Chosen per snapshot at build time by nDCG@10 on a holdout of each
    /// sampled user's latest items (`ModelSelection`).
    case auto

    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
    /// The models `NeighborBuilder` computes from co-occurrence.
    public static let sparse: [SimilarityKind] = [.cosine, .jaccard, .lift, .llr, .asymmetric, .rp3beta]

    /// Models whose score for (i, j) differs from (j, i).
    public var isSymmetric: Bool { self != .asymmetric && self != .rp3beta }

    /// RP3beta sums 1/|I_u| over shared users; the others count them.
    public var weighsUsersByDegree: Bool { self == .rp3beta }
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

    /// Row i's score for partner j.
    /// - Parameters:
    ///   - both: users who have both items (c_ij).
    ///   - walk: sum over those users of 1 / |I_u| (RP3beta only).
    ///   - countI, countJ: users who have each item (c_i, c_j).
    ///   - users: number of users N.
    @inline(__always)
    public func score(both: UInt32, walk: Float, countI: UInt32, countJ: UInt32, users: Int) -> Float {
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
