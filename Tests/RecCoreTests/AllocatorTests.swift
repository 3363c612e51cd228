import Testing
@testable import RecCore

@Suite struct AllocatorTests {
    /// mallopt refuses values outside its limits (a mmap threshold past
    /// 32 MB on 64-bit glibc) and then changes nothing: the policy must be
    /// one it takes.
    @Test func glibcTakesTheReusePolicy() {
        #expect(Allocator.reuseFreedMemory())
    }
}
