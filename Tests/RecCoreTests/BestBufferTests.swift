import Testing
import RecTestSupport
@testable import RecCore

@Suite struct BestBufferTests {
    /// Streams pairs through a buffer the way the build does (test the
    /// floor, offer, finish) and returns what it kept, best first.
    func keep(_ pairs: [(UInt32, Float)], k: Int, capacity: Int) -> [(UInt32, Float)] {
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, capacity))
        defer { keys.deallocate() }
        var count = 0
        var floor = -Float.infinity
        for (id, s) in pairs where k > 0 && s >= floor {
            BestBuffer.offer(BestBuffer.key(id, s), keys: keys, count: &count, capacity: capacity, k: k, floor: &floor)
        }
        let n = BestBuffer.finish(keys: keys, count: count, k: k)
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
