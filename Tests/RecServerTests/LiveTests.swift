import Foundation
import Synchronization
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// Live state over real sockets and real files.
@Suite(.serialized) struct LiveTests {
    static func config(snapshot: String, dataDir: String? = nil, fsync: FsyncPolicy = .always) -> ServerConfig {
        var c = ServerConfig()
        c.port = 0
        c.threads = 2
        c.snapshot = snapshot
        c.snapshotRoot = "/"
        c.dataDir = dataDir ?? Fixtures.directory([:])
        c.appendFsync = fsync
        c.build = Fixtures.plainConfig()
        return c
    }

    @Test func event_ThenRec_ReflectsIt_AtOnce() throws {
        let live = try LiveService.start(Self.config(snapshot: Fixtures.tinySnapshotDirectory()))
        let server = try TestServer(live: live)
        let client = try server.connect()
        // u4 has A; its neighbours are B (0.667) and C (0.408).
        client.send("REC u4 k=3\nEVENT u4 C purchase ts=\(Fixtures.t0)\nREC u4 k=3\nEVENT u4 C view qty=x\n")
        let lines = client.readLines(4)
        #expect(lines[0] == "OK B 0.666667 C 0.408248 D 1")
        #expect(lines[1] == "OK")
        // C is now seen (excluded) and boosts B by sim(C,B) = 0.816497.
        #expect(lines[2] == "OK B 1.48316 D 1")
        #expect(lines[3] == "ERR SYNTAX qty must be a number from 0.000001 to 1000000000, got 'x'")
        // A brand-new user is known from their first event.
        client.send("EVENT newbie A cart\nREC newbie k=1\n")
        #expect(client.readLines(2) == ["OK", "OK B 0.666667"])
    }

    @Test func due_OverTheWire_AndRecWithDueFirst() throws {
        let t0 = Fixtures.t0, day = Fixtures.day
        var rows = "user\titem\ttype\ttimestamp\n"
        // Coffee: gaps of 10 days by a and b; a also bought B with coffee once.
        for (u, d) in [("a", 0), ("a", 10), ("a", 20), ("b", 0), ("b", 10)] as [(String, Int64)] {
            rows += "\(u)\tcoffee\tpurchase\t\(t0 + d * day)\n"
        }
        rows += "a\tB\tpurchase\t\(t0)\nb\tB\tpurchase\t\(t0)\nb\tC\tpurchase\t\(t0)\n"
        let live = try LiveService.start(Self.config(snapshot: Fixtures.directory(["events.tsv": rows])))
        let server = try TestServer(live: live)
        let client = try server.connect()
        client.send("DUE a now=\(t0 + 33 * day)\nDUE a now=\(t0 + 25 * day)\nREC a k=2 due=1\nDUE nobody\n"
                    + "EVENT z X view ts=\(t0 + 33 * day)\nREC a k=2 due=1\n"
                    + "EVENT a coffee purchase ts=\(t0 + 32 * day)\nDUE a now=\(t0 + 33 * day)\n")
        let lines = client.readLines(8)
        #expect(lines[0] == "OK coffee 3")
        #expect(lines[1] == "OK")
        // "Now" defaults to the newest event, day 20: nothing is due, so REC alone.
        // Binary cosine: coffee and B are each had by a and b, C by b alone,
        // so both pairs with C score 1 / sqrt(2). C = 3 (a's coffee affinity,
        // three purchases) x 0.707107 + 1 (B) x 0.707107.
        #expect(lines[2] == "OK C 2.82843")
        #expect(lines[3] == "OK")
        #expect(lines[4] == "OK")
        // A live event on day 33 moves "now": coffee (due day 30) leads.
        #expect(lines[5] == "OK coffee 3 C 2.82843")
        #expect(lines[6] == "OK")
        #expect(lines[7] == "OK", "a live purchase on day 32 resets the clock")
    }

    @Test func item_ChangesFiltersAtOnce_AndANewItemBecomesPopularOnceItHasEvents() throws {
        let live = try LiveService.start(Self.config(snapshot: Fixtures.tinySnapshotDirectory()))
        let server = try TestServer(live: live)
        let client = try server.connect()
        client.send("ITEM B instock=0\nSIM A k=2 instock=1\nITEM NEW category=fresh title=New%20thing\nPOPULAR category=fresh\n")
        #expect(client.readLines(4) == ["OK", "OK C 0.408248 D 1", "OK", "OK"])
        client.send("EVENT u1 NEW purchase\nPOPULAR category=fresh\nITEM B price=-1\n")
        let lines = client.readLines(3)
        #expect(lines[0] == "OK")
        #expect(lines[1] == "OK NEW 1")
        #expect(lines[2].hasPrefix("ERR SYNTAX price"))
    }

    @Test func forget_RemovesTheUser_FromMemoryAndFromTheLog_AcrossARestart() throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(Self.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let client = try server.connect()
            client.send("EVENT u1 SECRETITEM view\nEVENT u2 C cart\nFORGET u1\nREC u1 k=1\n")
            #expect(client.readLines(4) == ["OK", "OK", "OK", "OK A 3"])
        }
        let log = try Data(contentsOf: URL(fileURLWithPath: dataDir + "/events.log"))
        #expect(log.range(of: Data("SECRETITEM".utf8)) == nil, "the forgotten user's events must leave the log file")
        let live = try LiveService.start(Self.config(snapshot: snapshot, dataDir: dataDir))
        #expect(live.state.user("u1")?.events.isEmpty == true)
        #expect(live.state.user("u2")?.events.count == 1)
        let server = try TestServer(live: live)
        let client = try server.connect()
        client.send("REC u1 k=1\n")
        // The restart builds without u1 (the suppression list), so A has two buyers left.
        #expect(client.readLines(1) == ["OK A 2"])
    }

    @Test func reloadUnderLoad_EveryReplyIsFromTheOldOrTheNewIndex_AndABrokenSnapshotLeavesTheOldServing() throws {
        let old = Fixtures.tinySnapshotDirectory()
        // The new snapshot adds a user who buys A and D, so SIM A changes.
        let new = Fixtures.tinySnapshotDirectory(extraRows: "u6\tA\tpurchase\t\(Fixtures.t0)\nu6\tD\tpurchase\t\(Fixtures.t0)\n")
        let broken = Fixtures.directory(["events.tsv": "who\twhat\n1\t2\n"])
        let live = try LiveService.start(Self.config(snapshot: old))
        let server = try TestServer(live: live)
        let oldAnswer = "OK B 0.666667 C 0.408248 D 1"
        let newAnswer = "OK B 0.57735 C 0.353553 D 0.353553"  // A: 4 users; D: 2, shares u6 with A; C before D on the tie
        let stop = Atomic<Bool>(false)
        let bad = Mutex<[String]>([])
        let counts = Mutex((old: 0, new: 0))
        let group = DispatchGroup()
        for _ in 0..<3 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let c = try? server.connect() else { bad.withLock { $0.append("connect failed") }; return }
                while !stop.load(ordering: .relaxed) {
                    c.send("SIM A k=3\nSIM A k=3\nSIM A k=3\nSIM A k=3\n")
                    for line in c.readLines(4) {
                        if line == oldAnswer { counts.withLock { $0.old += 1 } } else if line == newAnswer {
                            counts.withLock { $0.new += 1 }
                        } else { bad.withLock { $0.append(line) } }
                    }
                }
            }.start()
        }
        usleep(100_000)
        let admin = try server.connect()
        admin.send("RELOAD \(broken)\n")
        let failed = admin.readLines(1)[0]
        #expect(failed.hasPrefix("ERR RELOAD"))
        #expect(failed.contains("the old index keeps serving"))
        usleep(50_000)
        admin.send("RELOAD \(new)\nRELOAD \(new) async\n")
        let replies = admin.readLines(2)
        #expect(replies[0].hasPrefix("OK reloaded \(new)"))
        #expect(replies[1].hasPrefix("OK reload of"))
        usleep(200_000)
        stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(bad.withLock { $0.count } == 0, "replies from neither index: \(bad.withLock { Array($0.prefix(3)) })")
        #expect(counts.withLock { $0.old } > 0)
        #expect(counts.withLock { $0.new } > 0)
    }

    @Test func reload_IsRefusedOutsideTheSnapshotRoot_AndWhileAnotherRuns() throws {
        var config = Self.config(snapshot: Fixtures.tinySnapshotDirectory())
        config.snapshotRoot = Fixtures.directory([:])
        let live = try LiveService.start(config)
        let server = try TestServer(live: live)
        let client = try server.connect()
        client.send("RELOAD /etc\n")
        #expect(client.readLines(1)[0].hasPrefix("ERR DENIED /etc is outside snapshot-root"))
        _ = try live.beginReload(nil)
        client.send("RELOAD\nSAVE\n")
        #expect(client.readLines(2).allSatisfy { $0.hasPrefix("ERR BUSY") })
        _ = live.reload(live.currentSnapshot)
        client.send("RELOAD\n")
        #expect(client.readLines(1)[0].hasPrefix("OK reloaded"))
    }

    @Test func save_WritesASnapshotWithoutForgottenUsers_AndARestartServesIt() throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(Self.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let client = try server.connect()
            client.send("EVENT u9 A purchase ts=\(Fixtures.t0)\nEVENT u9 D purchase ts=\(Fixtures.t0)\nFORGET u5\nSAVE\nREC u9 k=2\nINFO live\n")
            let lines = client.readLines(6)
            #expect(lines[0...2] == ["OK", "OK", "OK"])
            #expect(lines[3] == "OK", "a bare OK, as Redis clients expect of SAVE")
            #expect(lines[5].contains("last_reload_detail:saved \(dataDir)/snapshots/snapshot-"), "the path is in INFO: \(lines[5])")
            // Rebuilt from the saved snapshot: u9 is part of the index now.
            #expect(lines[4] == "OK B 0.57735 C 0.353553")
            #expect(live.state.eventCount == 0)
        }
        let current = try #require(Manifest.read(dataDir: dataDir)?.snapshot, "SAVE made the new snapshot current in the manifest")
        let saved = try String(contentsOfFile: current + "/events.tsv", encoding: .utf8)
        #expect(!saved.contains("u5\t"))
        #expect(saved.contains("u9\tD\tpurchase"))
        let live = try LiveService.start(Self.config(snapshot: snapshot, dataDir: dataDir))
        #expect(live.currentSnapshot == current)
        #expect(live.state.eventCount == 0, "the log was emptied of what the snapshot holds")
        #expect(live.store.load().users.lookup("u9") != nil)
        #expect(live.store.load().users.lookup("u5") == nil)
    }

    /// recd as a child process. SIGKILL with appendfsync always, or SIGTERM
    /// (graceful: the log is flushed, exit status 0) with everysec: either
    /// way every acknowledged event is found after the restart.
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          arguments: [(SIGKILL, "always"), (SIGTERM, "everysec")])
    func stopping_LosesNoAcknowledgedEvent(signal: Int32, fsync: String) throws {
        let snapshot = Fixtures.tinySnapshotDirectory()
        let dataDir = Fixtures.directory([:])
        let port = freePort()
        func startRecd() throws -> Process {
            try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", dataDir, "--appendfsync", fsync], port: port)
        }
        let n = 300
        let first = try startRecd()
        let client = try TestClient(port: port)
        client.send((0..<n).map { "EVENT crash\($0 % 7) item\($0) view ts=\(Fixtures.t0 + Int64($0))\n" }.joined())
        let acks = client.readLines(n)
        #expect(acks.count == n && acks.allSatisfy { $0 == "OK" })
        kill(first.processIdentifier, signal)
        first.waitUntilExit()
        if signal == SIGTERM { #expect(first.terminationStatus == 0, "graceful shutdown exits 0") }
        let second = try startRecd()
        defer { second.terminate(); second.waitUntilExit() }
        let check = try TestClient(port: port)
        check.send("INFO\n")
        let info = check.readLines(1).first ?? ""
        #expect(info.contains("live_events:\(n)"), "INFO after restart: \(info)")
    }

    /// Starts the recd executable and waits until it accepts connections.
    static func spawnRecd(_ arguments: [String], port: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: LiveTests.recdBinary!)
        p.arguments = arguments + ["--port", String(port), "--threads", "1", "--loglevel", "warn"]
        try p.run()
        for _ in 0..<200 {
            if (try? TestClient(port: port)) != nil { return p }
            usleep(25_000)
        }
        p.terminate()
        throw POSIXError(.ETIMEDOUT)
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"))
    func sighup_ReloadsTheSnapshot() throws {
        let port = freePort()
        let recd = try Self.spawnRecd(["--snapshot", Fixtures.tinySnapshotDirectory(), "--data-dir", Fixtures.directory([:])],
                                      port: port)
        defer { recd.terminate(); recd.waitUntilExit() }
        kill(recd.processIdentifier, SIGHUP)
        var info = ""
        for _ in 0..<100 {
            let c = try TestClient(port: port)
            c.send("INFO\n")
            info = c.readLines(1).first ?? ""
            if info.contains("last_reload_status:ok") { break }
            usleep(50_000)
        }
        #expect(info.contains("last_reload_status:ok"), "INFO: \(info)")
    }

    static var recdBinary: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("recd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

extension LiveTests {
    /// The shipped sample is from 2011. One event stamped today, then SAVE:
    /// the rebuilt index must still hold its neighbours (decay measured
    /// from each user's own newest event), and SIM and REC for everyone
    /// else answer as before.
    @Test func undatedEvent_ThenSave_LeavesSimAndRecOfOthersAsBefore() throws {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        var config = Self.config(snapshot: dir.appendingPathComponent("config/sample").path)
        config.build = BuildConfig()
        let live = try LiveService.start(config)
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("SIM 85123A k=5\nREC 17850 k=5\n")
        let before = c.readLines(2)
        #expect(before[0].split(separator: " ").count == 11, "\(before[0])")
        c.send("EVENT newcomer brand-new-item purchase\nSAVE\nSIM 85123A k=5\nREC 17850 k=5\nINFO index\n")
        let after = c.readLines(5)
        #expect(after[0] == "OK" && after[1] == "OK")
        #expect(after[2] == before[0], "SIM after an undated event and SAVE: \(after[2]) (before: \(before[0]))")
        #expect(after[3] == before[1], "REC after an undated event and SAVE: \(after[3]) (before: \(before[1]))")
        #expect(!after[4].contains("neighbors:0 "), "\(after[4])")
    }
}

extension LiveTests {
    /// `similarity auto` serves at once with the first stage (cosine), then
    /// swaps in the model the holdout chose; INFO shows the stage and the
    /// table of candidates; a RELOAD starts over on its snapshot.
    @Test func autoSimilarity_ServesAtOnce_ThenSwapsInTheTunedModel() throws {
        var rows = "user\titem\ttype\ttimestamp\n"
        let events = Fixtures.randomEvents(users: 300, items: 80, groups: 3, seed: 5)
        for e in 0..<events.count {
            rows += "\(events.users.name(events.user[e]))\t\(events.items.name(events.item[e]))\tpurchase\t\(events.time[e])\n"
        }
        let snapshot = Fixtures.directory(["events.tsv": rows])
        var config = Self.config(snapshot: snapshot)
        config.build.similarity = .auto
        let live = try LiveService.start(config)
        #expect(live.store.load().config.similarity == .cosine, "the first stage serves at once")
        let server = try TestServer(live: live)
        let c = try server.connect()
        func info() -> String {
            c.send("INFO index\n")
            return (c.readLines(1).first ?? "").removingPercentEncoding ?? ""
        }
        func waitTuned() -> String {
            var text = info()
            for _ in 0..<200 where !text.contains("build_stage:tuned") {
                usleep(50_000)
                text = info()
            }
            return text
        }
        var text = waitTuned()
        #expect(text.contains("build_stage:tuned"), "\(text)")
        #expect(text.contains("similarity_configured:auto"))
        #expect(text.contains("model_chosen:") && text.contains("model_candidate:ease,l=100,ndcg10="), "\(text)")
        let chosen = live.store.load().config.similarity
        #expect(chosen != .auto && live.store.load().stats.selection != nil)
        c.send("RELOAD\n")
        #expect(c.readLines(1).first?.hasPrefix("OK reloaded") == true)
        text = waitTuned()
        #expect(text.contains("build_stage:tuned") && live.store.load().config.similarity == chosen, "\(text)")
    }

    /// On MovieLens the holdout prefers REC's hybrid blend of co-occurrence
    /// and the learned vectors: REC without mode= then blends, at the share
    /// the holdout chose, exactly as REC mode=hybrid does.
    @Test(.enabled(if: Fixtures.sharedData("ml100k_ratings.tsv") != nil, "needs ../shared/data/ml100k_ratings.tsv"))
    func autoSimilarity_OnMovieLens_MakesRecBlendTheLearnedVectorsByDefault() throws {
        let bytes = try FileBytes.read(try #require(Fixtures.sharedData("ml100k_ratings.tsv")))
        var rows = "user\titem\ttype\ttimestamp\n"
        var users: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t")
            rows += "\(f[0])\t\(f[1])\t\(Int(f[2])! >= 4 ? "purchase" : "view")\t\(f[3])\n"
            if users.count < 20 && !users.contains(String(f[0])) { users.append(String(f[0])) }
        }
        var config = Self.config(snapshot: Fixtures.directory(["events.tsv": rows]), fsync: .everysec)
        config.build = ServerConfig().build
        let live = try LiveService.start(config)
        let server = try TestServer(live: live)
        let c = try server.connect()
        var text = ""
        for _ in 0..<600 where !text.contains("build_stage:tuned") {
            usleep(100_000)
            c.send("INFO index\n")
            text = (c.readLines(1).first ?? "").removingPercentEncoding ?? ""
        }
        #expect(text.contains("build_stage:tuned") && text.contains("rec_default_mode:hybrid"), "\(text)")
        #expect(text.contains("model_candidate:") && text.contains("hybrid,w="), "\(text)")
        var differs = 0
        for user in users {
            c.send("REC \(user) k=10\nREC \(user) k=10 mode=hybrid\nREC \(user) k=10 mode=cf\n")
            let replies = c.readLines(3)
            #expect(replies[0] == replies[1], "\(user): default \(replies[0]) vs hybrid \(replies[1])")
            if replies[0] != replies[2] { differs += 1 }
        }
        #expect(differs >= 10, "the blend changes most answers: \(differs) of \(users.count)")
    }
}
