import Testing
import RecTestSupport
@testable import RecCore

@Suite struct BestBufferTests {
    /// Streams pairs through a buffer the way the build does (offer,
    /// finish) and returns what it kept, best first.
    func keep(_ pairs: [(UInt32, Float)], k: Int, capacity: Int) -> [(UInt32, Float)] {
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, capacity))
        defer { keys.deallocate() }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, capacity))
        defer { scratch.deallocate() }
        var count = 0
        var floor: Float = 0
        for (id, s) in pairs where k > 0 {
            BestBuffer.offer(BestBuffer.key(id, s), keys: keys, count: &count, capacity: capacity, k: k, floor: &floor,
                             scratch: scratch)
        }
        let n = BestBuffer.finish(keys: keys, count: count, k: k, scratch: scratch)
        return (0..<n).map { (BestBuffer.id(keys[$0]), BestBuffer.score(keys[$0])) }
    }

    func bestFirst(_ pairs: [(UInt32, Float)], _ k: Int) -> [UInt32] {
        pairs.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
    }

    @Test func keepsTheBestK_MatchingAFullSort_OnRandomStreams() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<500 {
            let n = Int(rng.next() % 400)
            let k = 1 + Int(rng.next() % 20)
            let capacity = k + 1 + Int(rng.next() % UInt64(3 * k))
            // Few distinct scores in half the trials, so ties decide by id.
            let levels = trial % 2 == 0 ? 4 : 1_000_000
            // Positive scores, as the build gives; ids up to UInt32.max.
            let pairs = (0..<n).map { (UInt32.max - UInt32($0) * 7919, 1 + Float(rng.next() % UInt64(levels)) / 7) }
                .shuffled(using: &rng)
            let kept = keep(pairs, k: k, capacity: capacity)
            #expect(kept.map(\.0) == bestFirst(pairs, k), "trial \(trial): n \(n) k \(k) capacity \(capacity)")
        }
    }

    /// Cuts `input` directly and returns the kept keys (sorted) and the worst.
    func cut(_ input: [UInt64], k: Int) -> (kept: [UInt64], worst: UInt64) {
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: input.count)
        defer { keys.deallocate() }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: input.count)
        defer { scratch.deallocate() }
        keys.initialize(from: input, count: input.count)
        let worst = BestBuffer.cut(keys: keys, count: input.count, k: k, scratch: scratch)
        return (UnsafeBufferPointer(start: keys, count: k).sorted(by: >), worst)
    }

    @Test func cut_KeepsTheKLargestKeys_ForEverySplit() {
        var rng = SplitMix64(seed: 5)
        for count in 2...40 {
            for k in 1..<count {
                let input = (0..<count).map { _ in BestBuffer.key(UInt32(rng.next() % 1000), 1 + Float(rng.next() % 64)) }
                let expected = Array(input.sorted(by: >).prefix(k))
                let (kept, worst) = cut(input, k: k)
                #expect(kept == expected && worst == expected[k - 1], "count \(count) k \(k)")
            }
        }
    }

    @Test func cut_RepeatedKeys_StillEnds() {
        // The build never repeats a key, but a cut must not spin if one does.
        let same = [UInt64](repeating: BestBuffer.key(3, 0.5), count: 9)
        #expect(cut(same, k: 4).kept == Array(same.prefix(4)))
        let twoLevels = [BestBuffer.key(1, 0.5), BestBuffer.key(1, 0.75), BestBuffer.key(1, 0.5), BestBuffer.key(1, 0.75)]
        #expect(cut(twoLevels, k: 3).kept == [BestBuffer.key(1, 0.75), BestBuffer.key(1, 0.75), BestBuffer.key(1, 0.5)])
        #expect(cut([BestBuffer.key(2, 0.25), BestBuffer.key(1, 0.25)], k: 1).kept == [BestBuffer.key(1, 0.25)])
    }

    @Test func floorNeverPassesTheKthBest() {
        // Ascending scores: every cut raises the floor, and the last k offered are the answer.
        let pairs = (0..<100).map { (UInt32($0), Float($0) + 0.5) }
        #expect(keep(pairs, k: 5, capacity: 10).map(\.0) == [99, 98, 97, 96, 95])
        // Descending: the first cut sets the floor at the 5th best; nothing later enters.
        #expect(keep(pairs.reversed(), k: 5, capacity: 10).map(\.0) == [99, 98, 97, 96, 95])
    }

    @Test func keys_KeepIdAndScoreExactly_AndOrderAsScoreThenLowerId() {
        for (id, score) in [(UInt32(0), Float.leastNonzeroMagnitude), (UInt32.max, Float.greatestFiniteMagnitude), (12345, 0.1)] {
            let key = BestBuffer.key(id, score)
            #expect(BestBuffer.id(key) == id && BestBuffer.score(key) == score)
        }
        #expect(BestBuffer.key(9, 0.5) > BestBuffer.key(1, 0.25))
        #expect(BestBuffer.key(1, 0.5) > BestBuffer.key(9, 0.5))
    }

    @Test func fewerThanK_AllKeptSorted() {
        let pairs: [(UInt32, Float)] = [(7, 0.5), (3, 0.9), (5, 0.5)]
        let kept = keep(pairs, k: 10, capacity: 20)
        #expect(kept.map(\.0) == [3, 5, 7])
        #expect(kept.map(\.1) == [0.9, 0.5, 0.5])
        #expect(keep([], k: 3, capacity: 6).isEmpty)
    }
}
