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

    @Test func namesSharingTheirFirst12Bytes_OrDifferingOnlyInLength_StayDistinct() {
        // Slots hold a name's length and first 12 bytes: names that agree
        // there must still be told apart by the rest, at every length.
        var interner = ByteInterner()
        var names: [String] = []
        for length in 0...40 {
            names.append(String(repeating: "x", count: length))
            if length > 12 {
                names.append(String(repeating: "x", count: length - 1) + "y")
                names.append(String(repeating: "x", count: 12) + "z" + String(repeating: "x", count: length - 13))
            }
        }
        names += ["a", "a\0", "a\0\0", "\0", "000000596104", "0000005961040", "00000059610"]
        let ids = names.map { interner.intern($0) }
        #expect(Set(ids).count == names.count)
        for _ in 0..<3 {  // and again after the table has grown
            for (name, id) in zip(names, ids) {
                #expect(interner.lookup(name) == id, "\(name.debugDescription)")
                #expect(interner.name(id) == name)
            }
            for i in 0..<5_000 { interner.intern("filler-\(i)") }
        }
        #expect(interner.lookup(String(repeating: "x", count: 41)) == nil)
        #expect(interner.lookup(String(repeating: "x", count: 12) + "q") == nil)
        #expect(interner.lookup("a\0\0\0") == nil)
    }
}
