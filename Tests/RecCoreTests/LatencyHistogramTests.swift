import Testing
import RecCore

@Suite struct LatencyHistogramTests {
    @Test func percentiles_AreWithinOnePercentOfExactRanks() {
        var rng = SplitMix64(seed: 5)
        var h = LatencyHistogram()
        var values: [UInt64] = []
        for _ in 0..<50_000 {
            // Log-uniform from 1 ns to about 17 s: every bucket row gets used.
            let v = UInt64(1) << (rng.next() % 34) + rng.next() % 1000
            values.append(v)
            h.record(v)
        }
        values.sort()
        for p in [50.0, 90, 99, 99.9] {
            let exact = values[Int((p / 100 * Double(values.count)).rounded(.up)) - 1]
            let got = h.percentile(p)
            #expect(got <= exact && Double(exact - got) <= Double(exact) / 128 + 1, "p\(p): \(got) vs \(exact)")
        }
        #expect(h.total == 50_000)
        #expect(h.maxValue == values.last)
    }

    @Test func histograms_AddUp_AndReset() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        for v in [10, 200, 3000] as [UInt64] { a.record(v) }
        for v in [40_000, 500_000] as [UInt64] { b.record(v) }
        a.add(b)
        #expect(a.total == 5 && a.maxValue == 500_000)
        #expect(a.percentile(50) <= 3000 && a.percentile(50) >= 3000 - 3000 / 128)  // the bucket holding 3000
        a.reset()
        #expect(a.total == 0 && a.percentile(99) == 0)
    }
}
