import Testing
@testable import RecCore

@Suite struct ByteInternerTests {
    @Test func ids_AreDenseInFirstSeenOrder_AndStable() {
        var interner = ByteInterner()
        #expect(interner.intern("b") == 0)
        #expect(interner.intern("a") == 1)
        #expect(interner.intern("b") == 0)
        #expect(interner.count == 2)
        #expect(interner.name(1) == "a")
        #expect(interner.lookup("c") == nil)
    }

    @Test func manyKeys_SurviveTableGrowth_WithEveryLookupRight() {
        var interner = ByteInterner()
        for i in 0..<50_000 { #expect(interner.intern("key-\(i)") == UInt32(i)) }
        for i in stride(from: 0, to: 50_000, by: 7) {
            #expect(interner.lookup("key-\(i)") == UInt32(i))
            #expect(interner.name(UInt32(i)) == "key-\(i)")
        }
        #expect(interner.lookup("key-50000") == nil)
    }

    @Test func keys_AreBytes_SoCaseSpacesAndTheEmptyStringAreDistinct() {
        var interner = ByteInterner()
        let ids = ["85123A", "85123a", "BANK CHARGES", "", "ü"].map { interner.intern($0) }
        #expect(Set(ids).count == 5)
        #expect(interner.lookup("BANK CHARGES") == ids[2])
        #expect(interner.lookup("") == ids[3])
        #expect(interner.name(ids[4]) == "ü")
    }
}
