/// The ranges every stored number must lie in, whatever its source (a
/// client, a snapshot file, a log record written by an older version).
/// Keeping every time inside `times` is what lets the rest of the code
/// subtract times freely: any difference of two of them fits an Int64 many
/// times over, so nothing downstream can trap or wrap. The README's table
/// of argument ranges quotes these.
public enum ValueRanges {
    /// 1970-01-01T00:00:00Z through 9999-12-31T23:59:59Z: what ISO 8601's
    /// four-digit years can name.
    public static let times: ClosedRange<Int64> = 0...253_402_300_799
    /// Quantities of an event: from a millionth (smaller ones would round
    /// to 0 somewhere on the way) to a billion (beyond it is a unit mix-up).
    public static let minQuantity: Double = 1e-6
    public static let maxQuantity: Double = 1e9
    /// Prices: 0 through 10^12.
    public static let prices: ClosedRange<Double> = 0...1e12
    /// Embedding dimensions, from files and query vectors.
    public static let dimensions: ClosedRange<Int> = 1...4096
    /// Largest magnitude of one vector component: squares summed over
    /// `dimensions.upperBound` values stay finite in Float.
    public static let maxComponent: Double = 1e9

    public static func isValidTime(_ t: Int64) -> Bool { times.contains(t) }

    public static func isValidQuantity(_ q: Double) -> Bool { q >= minQuantity && q <= maxQuantity }  // false for NaN

    public static func isValidPrice(_ p: Double) -> Bool { prices.contains(p) }  // false for NaN
}

extension Int64 {
    /// `self - other`, pinned to Int64's range instead of trapping or
    /// wrapping: the guard for arithmetic on times that came from outside.
    @inline(__always)
    public func saturatingMinus(_ other: Int64) -> Int64 {
        let (d, overflow) = subtractingReportingOverflow(other)
        if !overflow { return d }
        return other < 0 ? .max : .min
    }

    /// `self + other`, pinned to Int64's range.
    @inline(__always)
    public func saturatingPlus(_ other: Int64) -> Int64 {
        let (s, overflow) = addingReportingOverflow(other)
        if !overflow { return s }
        return other > 0 ? .max : .min
    }

    /// `Int64(d)` for any Double: NaN is 0, values beyond the range are pinned.
    public static func saturating(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9.2e18 { return .max }
        if d <= -9.2e18 { return .min }
        return Int64(d)
    }
}
