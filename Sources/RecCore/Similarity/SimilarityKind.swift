import Foundation

/// How two items' user sets are turned into one similarity score.
///
/// `cosine` uses the weighted (event type x time decay) user-item affinities;
/// the others use plain co-occurrence counts, as SAR and Mahout define them.
public enum SimilarityKind: String, Sendable, CaseIterable {
    /// dot(a_i, a_j) / (|a_i| |a_j|) over weighted affinities. In [0, 1].
    case cosine
    /// c_ij / (c_i + c_j - c_ij). In [0, 1].
    case jaccard
    /// N c_ij / (c_i c_j): how much more often the pair occurs than chance.
    case lift
    /// Dunning's log-likelihood ratio G^2 on the 2x2 contingency table;
    /// 0 when the pair co-occurs less often than chance.
    case llr

    /// - Parameters:
    ///   - dot: sum over shared users of a_ui * a_uj.
    ///   - both: users who have both items (c_ij).
    ///   - countI, countJ: users who have each item (c_i, c_j).
    ///   - normI, normJ: Euclidean norms of the items' affinity vectors.
    ///   - users: number of users N.
    @inline(__always)
    public func score(dot: Float, both: UInt32, countI: UInt32, countJ: UInt32,
                      normI: Float, normJ: Float, users: Int) -> Float {
        switch self {
        case .cosine:
            let d = normI * normJ
            return d > 0 ? min(1, dot / d) : 0
        case .jaccard:
            return Float(both) / Float(countI + countJ - both)
        case .lift:
            return Float(Double(users) * Double(both) / (Double(countI) * Double(countJ)))
        case .llr:
            return Float(SimilarityKind.logLikelihoodRatio(
                k11: Double(both), k12: Double(countI - both),
                k21: Double(countJ - both), k22: Double(users) - Double(countI) - Double(countJ) + Double(both)))
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
