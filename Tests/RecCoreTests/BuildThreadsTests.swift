import Glibc
import Synchronization
import Testing
@testable import RecCore

/// Builds that run while serving stay below the event loops' priority, on
/// every thread they use.
@Suite struct BuildThreadsTests {
    @Test func run_CoversEveryIndexOnce() {
        let hits = Atomic<Int>(0), mask = Atomic<Int>(0)
        BuildThreads.run(5) { t in
            hits.add(1, ordering: .relaxed)
            mask.bitwiseOr(1 << t, ordering: .relaxed)
        }
        #expect(hits.load(ordering: .relaxed) == 5)
        #expect(mask.load(ordering: .relaxed) == 0b11111)
    }

    @Test func belowServing_LowersTheBuild_AndEveryThreadItStarts_ButNotTheCaller() {
        let before = BuildThreads.currentNice
        let seen = Mutex<[Int32]>([]), policies = Mutex<[Int32]>([])
        @Sendable func note() {
            seen.withLock { $0.append(BuildThreads.currentNice) }
            policies.withLock { $0.append(sched_getscheduler(0)) }
        }
        let answer = BuildThreads.belowServing {
            note()
            BuildThreads.run(3) { _ in note() }
            let side = BuildThreads.spawn { note() }
            side.join()
            return 42
        }
        #expect(answer == 42)
        let expected = min(19, before + BuildThreads.servingNice)
        #expect(seen.withLock { $0 } == Array(repeating: expected, count: 5))
        #expect(policies.withLock { $0 } == Array(repeating: BuildThreads.schedIdle, count: 5))
        #expect(BuildThreads.currentNice == before, "the caller's own priority is untouched")
        #expect(sched_getscheduler(0) != BuildThreads.schedIdle)
    }
}
