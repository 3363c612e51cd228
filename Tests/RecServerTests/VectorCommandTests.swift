import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// VLIKE, VREC and REC mode= over a real socket (VSIM's Redis form: RedisCompatibilityTests).
@Suite(.serialized) struct VectorCommandTests {
    static func index() -> RecIndex {
        IndexBuilder.build(Fixtures.tinySnapshotWithVectors(), config: Fixtures.plainConfig())
    }

    @Test func vsimVrecAndModes_InBothDialects() throws {
        let server = try TestServer(index: Self.index())
        let c = try server.connect()
        c.send("VLIKE C k=2\nVREC 1,0 k=2\nVREC 1,0,0\nVREC 1,x\nREC u4 k=2 mode=vec\nREC u4 k=1 mode=hybrid\nREC u4 mode=sideways\nVLIKE nothing k=1\nVSIM C k=2\n")
        #expect(c.readLines(9) == [
            "OK D 0.993884 B 0.110432",
            "OK A 1 B 0.993884",
            "ERR SYNTAX vector has 3 values; the index's vectors have 2",
            "ERR SYNTAX vector values must be finite numbers from -1e9 to 1e9, got 'x'",
            "OK B 0.993884 D 0.110432",
            "OK B 0.998165",  // 0.7 x 1 (best co-occurrence) + 0.3 x 0.993884
            "ERR SYNTAX mode must be cf, vec or hybrid, got 'sideways'",
            "OK A 3",
            "ERR SYNTAX VSIM takes Redis 8's form: VSIM items ELE item [WITHSCORES] [COUNT n] ...; recd's filtered form is VLIKE item [k=N] [category=C] ...",
        ])
        let r = try server.connect()
        r.send(resp("VLIKE", "A", "k=1"))
        #expect(r.readRESP()?.strings == ["B", "0.993884"])
    }

    @Test func withoutVectors_TheCommandsSaySo() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send("VLIKE A\nREC u1 mode=hybrid\n")
        #expect(c.readLines(2) == [
            "ERR NOVECTORS no item vectors: the snapshot has no embeddings.tsv or embeddings.f32 and als-factors is 0 (set als-factors, e.g. 32)",
            "ERR NOVECTORS no item vectors: the snapshot has no embeddings.tsv or embeddings.f32 and als-factors is 0 (set als-factors, e.g. 32)",
        ])
    }
}
