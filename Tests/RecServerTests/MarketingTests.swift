import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// The marketing jobs on hand-built data with known answers.
@Suite(.serialized) struct MarketingTests {
    @Test func alias_MergesAVisitorIntoAMember_ForBothIds_AcrossARestart_AndForgetTakesBoth() throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let c = try server.connect()
            // An anonymous visitor looks at C, then logs in as u4 (who has A).
            c.send("EVENT visitor C view ts=\(Fixtures.t0)\nALIAS visitor u4\nREC u4 k=2\nREC visitor k=2\n"
                   + "EVENT visitor D view ts=\(Fixtures.t0)\nREC u4 k=3 seen=include\n")
            let lines = c.readLines(6)
            #expect(lines[0...1] == ["OK", "OK"])
            // A and C are u4's now: B = 0.666667 (from A) + 0.816497 (from C).
            #expect(lines[2] == "OK B 1.48316 D 1 (fallback) 1")
            #expect(lines[3] == lines[2], "the visitor id answers for the merged person")
            #expect(lines[4] == "OK")
            #expect(lines[5].hasPrefix("OK B 1.48316 "), "the visitor's later event went to the member: \(lines[5])")
            #expect(live.state.user("u4")?.events.map { String(decoding: $0.item, as: UTF8.self) } == ["C", "D"])
        }
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("REC visitor k=1\nALIAS u5 u4\nREC u4 k=1 seen=include\nFORGET u4\nREC visitor k=1\nREC u5 k=1\n")
        let lines = c.readLines(6)
        #expect(lines[0] == "OK B 1.48316", "the stitch survives a restart")
        #expect(lines[1] == "OK")
        // u5's snapshot history (D) now counts for u4 too.
        #expect(lines[2].hasPrefix("OK "))
        #expect(lines[3] == "OK")
        #expect(lines[4] == "OK A 3 (unknown) 1", "forgetting the member forgets the visitor")
        #expect(lines[5] == "OK A 3 (unknown) 1", "and the stitched snapshot user")
    }
}
