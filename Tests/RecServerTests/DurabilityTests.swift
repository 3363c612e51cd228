import Foundation
import Synchronization
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// What an acknowledgement promises: an event answered OK is served after
/// RELOAD, SAVE and restarts, exactly once; a FORGET stays.
@Suite(.serialized) struct DurabilityTests {
    /// A shop till's day imported late (backdated, older than the snapshot's
    /// newest event) survives RELOAD of the same snapshot and of another,
    /// and a restart after each.
    @Test func backdatedEvents_SurviveReloadOfTheSameAndAnotherSnapshot_AndARestart() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(extraRows: "u9\tA\tpurchase\t\(Fixtures.t0 + 30 * Fixtures.day)\n")
        let other = Fixtures.tinySnapshotDirectory(extraRows: "u8\tB\tpurchase\t\(Fixtures.t0 + 40 * Fixtures.day)\n")
        let dataDir = Fixtures.directory([:])
        let backdated = (1...3).map { "EVENT till C purchase ts=\(Fixtures.t0 + Int64($0) * Fixtures.day)" }
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let c = try server.connect()
            c.send((backdated + ["RELOAD", "RELOAD \(other)"]).map { $0 + "\n" }.joined())
            let replies = c.readLines(5)
            #expect(Array(replies.prefix(3)) == ["OK", "OK", "OK"])
            #expect(replies[3].hasPrefix("OK reloaded") && replies[4].hasPrefix("OK reloaded"), "\(replies)")
            #expect(live.state.eventCount == 3, "the three backdated events are live after both reloads")
        }
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        #expect(live.state.eventCount == 3, "and after a restart")
        #expect(live.currentSnapshot == other, "the restart serves the snapshot last reloaded")
    }

    /// A live event that the reloaded snapshot holds (the nightly export
    /// includes what the site sent) counts once, not twice.
    @Test func reloadOfASnapshotHoldingALiveEvent_CountsItOnce() throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        let t = Fixtures.t0 + Fixtures.day
        let export = Fixtures.tinySnapshotDirectory(extraRows: "till\tC\tpurchase\t\(t)\n")
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("EVENT till C purchase ts=\(t)\nEVENT till D view ts=\(t)\nRELOAD \(export)\n")
        #expect(c.readLines(3).last?.hasPrefix("OK reloaded") == true)
        #expect(live.state.eventCount == 1, "the export holds the purchase; the view stays live")
        let restarted = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        #expect(restarted.state.eventCount == 1)
    }

    /// FORGET holds after SAVE, after RELOAD of the original snapshot (which
    /// still has the user), and after a restart.
    @Test func forget_HoldsAfterSave_AfterReloadOfTheOriginal_AndAfterRestart() throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let c = try server.connect()
            c.send("FORGET u2\nSAVE\nRELOAD \(snapshot)\nREC u2 k=2 WITHMETA\n")
            let lines = c.readLines(4)
            #expect(lines[0] == "OK" && lines[1] == "OK")
            #expect(lines[3].hasSuffix("(unknown) 1") || lines[3].contains("(fallback) 2"), "u2 is unknown after RELOAD of the original: \(lines)")
            #expect(live.store.load().users.lookup("u2") == nil, "the original snapshot's u2 is suppressed")
        }
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        #expect(live.store.load().users.lookup("u2") == nil, "still forgotten after a restart")
    }

    /// Item vectors given in the snapshot are written by SAVE.
    @Test func vectors_SurviveSaveAndARestart() throws {
        var embeddings = "item\tv1\tv2\n"
        for (name, v) in [("A", "1\t0"), ("B", "0.9\t0.1"), ("C", "0\t1"), ("D", "0.1\t0.9")] { embeddings += "\(name)\t\(v)\n" }
        let snapshot = Fixtures.tinySnapshotDirectory()
        try embeddings.write(toFile: snapshot + "/embeddings.tsv", atomically: true, encoding: .utf8)
        let dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let c = try server.connect()
            c.send("SAVE\nVLIKE A k=1\n")
            #expect(c.readLines(2) == ["OK", "OK B 0.993884"])
        }
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("VLIKE A k=1\n")
        #expect(c.readLines(1) == ["OK B 0.993884"])
    }
}
