import Testing
import RecTestSupport
@testable import RecCore

@Suite struct TopKHeapTests {
    func drain(_ heap: inout TopKHeap) -> [(UInt32, Float)] {
        var out: [(UInt32, Float)] = []
        heap.drainBestFirst { out.append(($0, $1)) }
        return out
    }

    @Test func keepsTheBestK_MatchingAFullSort_OnRandomInputs() {
        var rng = SplitMix64(seed: 3)
        var heap = TopKHeap(capacity: 4)
        for trial in 0..<300 {
            let n = Int(rng.next() % 40)
            let k = Int(rng.next() % 12)
            // Few distinct scores, so ties are common.
            let items = (0..<n).map { (UInt32($0), Float(rng.next() % 5)) }.shuffled(using: &rng)
            heap.reset(keeping: k)
            for (id, s) in items { heap.insert(id, s) }
            let expected = items.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k)
            let got = drain(&heap)
            #expect(got.map(\.0) == expected.map(\.0), "trial \(trial)")
            #expect(heap.count == 0)
        }
    }

    @Test func everySmallInput_ExhaustivelyAgreesWithSorting() {
        // All score assignments from {0,1,2} to 5 ids, for every k up to 6.
        var heap = TopKHeap(capacity: 1)
        for code in 0..<243 {
            var c = code
            let scores = (0..<5).map { _ -> Float in defer { c /= 3 }; return Float(c % 3) }
            for k in 0...6 {
                heap.reset(keeping: k)
                for (i, s) in scores.enumerated().reversed() { heap.insert(UInt32(i), s) }
                let expected = scores.enumerated().map { (UInt32($0.offset), $0.element) }
                    .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
                #expect(drain(&heap).map(\.0) == expected)
            }
        }
    }

    @Test func zeroCapacity_KeepsNothing() {
        var heap = TopKHeap(capacity: 0)
        heap.reset(keeping: 0)
        heap.insert(1, 5)
        #expect(drain(&heap).isEmpty)
    }
}
