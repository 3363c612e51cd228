/// Log-bucketed latency histogram in the manner of HdrHistogram: each power
/// of two is split into 128 linear sub-buckets, so any recorded value is
/// known to within 1/128 (< 0.8%). Fixed storage, so recording allocates
/// nothing; histograms of several threads add up.
public struct LatencyHistogram: Sendable {
    static let subBits = 7
    static let subCount = 1 << subBits
    static let buckets = (64 - subBits) * subCount

    public private(set) var counts = [UInt64](repeating: 0, count: LatencyHistogram.buckets)
    public private(set) var total: UInt64 = 0
    public private(set) var maxValue: UInt64 = 0

    public init() {}

    @inline(__always)
    static func index(_ v: UInt64) -> Int {
        if v < UInt64(subCount) { return Int(v) }
        // Keep the top subBits + 1 bits; the bucket row is the shift + 1.
        let shift = (64 - v.leadingZeroBitCount) - (subBits + 1)
        let top = Int(v >> UInt64(shift))
        return (shift + 1) * subCount + (top - subCount)
    }

    /// The smallest value of bucket `i` (values in it are at most 1/128 above).
    static func lowerBound(_ i: Int) -> UInt64 {
        let row = i / subCount
        if row == 0 { return UInt64(i) }
        return UInt64(subCount + i % subCount) << UInt64(row - 1)
    }

    @inline(__always)
    public mutating func record(_ v: UInt64) {
        counts[LatencyHistogram.index(v)] += 1
        total += 1
        if v > maxValue { maxValue = v }
    }

    public mutating func add(_ other: LatencyHistogram) {
        guard other.total > 0 else { return }
        for i in 0..<counts.count where other.counts[i] > 0 { counts[i] += other.counts[i] }
        total += other.total
        maxValue = max(maxValue, other.maxValue)
    }

    public mutating func reset() {
        guard total > 0 else { return }
        for i in 0..<counts.count { counts[i] = 0 }
        total = 0
        maxValue = 0
    }

    /// Value at percentile p (0...100): the bucket holding that rank.
    public func percentile(_ p: Double) -> UInt64 {
        if total == 0 { return 0 }
        let rank = UInt64((p / 100 * Double(total)).rounded(.up))
        var seen: UInt64 = 0
        for i in 0..<counts.count where counts[i] > 0 {
            seen += counts[i]
            if seen >= max(1, rank) { return min(maxValue, LatencyHistogram.lowerBound(i)) }
        }
        return maxValue
    }
}
