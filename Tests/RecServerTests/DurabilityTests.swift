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

extension DurabilityTests {
    /// recd as a child process under EVENT load from three connections,
    /// with SAVE, RELOAD and FORGET mixed in, killed with SIGKILL at a random
    /// moment, again and again on one data-dir: after each kill every
    /// acknowledged event is served exactly once, no unacknowledged one
    /// twice, and every forgotten user is gone. (More iterations:
    /// `Benchmarks/kill-loop.sh 200`.)
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"))
    func sigkillAtRandomMoments_LosesNoAcknowledgedEvent_AndDoublesNone() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["RECD_KILL_ITERATIONS"] ?? "3") ?? 3
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        let port = freePort()
        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var acked = Set<String>(), sent = Set<String>(), forgotten = Set<String>(), forgetSent = Set<String>()
        var totals = (saves: 0, reloads: 0, forgets: 0)
        for iteration in 0..<iterations {
            // One build stage, no learned vectors: SAVE and RELOAD finish
            // in milliseconds, so kills land inside them often.
            let recd = try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", dataDir, "--appendfsync", "always",
                                                "--similarity", "cosine", "--als-factors", "0"], port: port)
            let ackedNow = Mutex<[String]>([]), sentNow = Mutex<[String]>([]), forgottenNow = Mutex<[String]>([])
            let forgetSentNow = Mutex<[String]>([])
            let ops = Mutex((saves: 0, reloads: 0, forgets: 0))
            let stop = Atomic<Bool>(false)
            let group = DispatchGroup()
            for writer in 0..<3 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    guard let c = try? TestClient(port: port, timeoutSeconds: 10) else { return }
                    var n = 0
                    while !stop.load(ordering: .relaxed) {
                        let user = "k\(iteration)-\(writer)-\(n)"
                        n += 1
                        sentNow.withLock { $0.append(user) }
                        c.send("EVENT \(user) A view ts=\(Fixtures.t0 + Int64(n))\n")
                        guard c.readLines(1).first == "OK" else { return }
                        ackedNow.withLock { $0.append(user) }
                    }
                }.start()
            }
            group.enter()
            Thread {
                defer { group.leave() }
                guard let c = try? TestClient(port: port, timeoutSeconds: 10) else { return }
                var r = SplitMix64(seed: UInt64(iteration) &+ 99)
                while !stop.load(ordering: .relaxed) {
                    usleep(UInt32(20_000 + r.next() % 60_000))
                    switch r.next() % 3 {
                    case 0:
                        c.send("SAVE\n")
                        guard c.readLines(1).first == "OK" else { return }
                        ops.withLock { $0.saves += 1 }
                    case 1:
                        c.send("RELOAD\n")
                        guard c.readLines(1).first?.hasPrefix("OK") == true else { return }
                        ops.withLock { $0.reloads += 1 }
                    default:
                        guard let user = ackedNow.withLock({ $0.randomElement() }) else { continue }
                        forgetSentNow.withLock { $0.append(user) }
                        c.send("FORGET \(user)\n")
                        guard c.readLines(1).first == "OK" else { return }
                        forgottenNow.withLock { $0.append(user) }
                        ops.withLock { $0.forgets += 1 }
                    }
                }
            }.start()
            usleep(UInt32(300_000 + rng.next() % 900_000))
            kill(recd.processIdentifier, SIGKILL)
            recd.waitUntilExit()
            stop.store(true, ordering: .relaxed)
            group.wait()
            acked.formUnion(ackedNow.withLock { $0 })
            sent.formUnion(sentNow.withLock { $0 })
            forgotten.formUnion(forgottenNow.withLock { $0 })
            forgetSent.formUnion(forgetSentNow.withLock { $0 })
            let o = ops.withLock { $0 }
            totals = (totals.saves + o.saves, totals.reloads + o.reloads, totals.forgets + o.forgets)

            // What a restart serves: the manifest's snapshot (suppressions
            // applied) and the live events replay gives back.
            var config = LiveTests.config(snapshot: snapshot, dataDir: dataDir)
            config.appendFsync = .no
            let live = try LiveService.start(config)
            let served = try Daemon.loadSnapshot(config, directory: live.currentSnapshot, suppressed: live.suppressions.all)
            var count: [String: Int] = [:]
            for e in 0..<served.events.count { count[served.events.users.name(served.events.user[e]), default: 0] += 1 }
            live.state.forEachEvent { user, _ in count[String(decoding: user, as: UTF8.self), default: 0] += 1 }
            // A FORGET killed before its reply may or may not have happened.
            let lost = acked.subtracting(forgetSent).filter { count[$0] != 1 }
            let doubled = sent.filter { (count[$0] ?? 0) > 1 }
            let resurrected = forgotten.filter { (count[$0] ?? 0) > 0 }
            #expect(lost.isEmpty, "iteration \(iteration): acknowledged events lost or doubled: \(lost.sorted().prefix(5)) of \(acked.count)")
            #expect(doubled.isEmpty, "iteration \(iteration): events served twice: \(doubled.sorted().prefix(5))")
            #expect(resurrected.isEmpty, "iteration \(iteration): forgotten users back: \(resurrected.sorted().prefix(5))")
            if !lost.isEmpty || !doubled.isEmpty || !resurrected.isEmpty { break }
        }
        print("kill loop: \(iterations) SIGKILLs, \(acked.count) acknowledged events (\(sent.count) sent), \(totals.saves) SAVEs, "
              + "\(totals.reloads) RELOADs, \(forgotten.count) FORGETs; lost 0, doubled 0, forgotten back 0 unless reported above")
    }
}

extension DurabilityTests {
    static let strace: String? = FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") ? "/usr/bin/strace" : nil

    /// The order of durable operations, seen from outside with strace (the
    /// page cache survives SIGKILL, so kill tests cannot show power-cut
    /// safety): with appendfsync always the log's fdatasync comes before the
    /// OK is sent; the manifest is renamed into place only after every
    /// snapshot file and its directory were fsynced.
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: DurabilityTests.strace != nil, "needs strace: run .ci/install-test-tools"))
    func strace_LogSyncedBeforeTheReply_ManifestRenamedAfterTheSnapshotIsSynced() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        let trace = Fixtures.directory([:]) + "/strace.out"
        let port = freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.strace!)
        p.arguments = ["-f", "-y", "-e", "trace=fdatasync,fsync,rename,write,sendto", "-o", trace, LiveTests.recdBinary!,
                       "--snapshot", snapshot, "--data-dir", dataDir, "--appendfsync", "always", "--port", String(port),
                       "--threads", "1", "--loglevel", "warn"]
        try p.run()
        // strace passes no SIGTERM on to the program it started: stop recd itself.
        func stopRecd() {
            let pid = p.processIdentifier
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
            p.waitUntilExit()
        }
        defer { if p.isRunning { stopRecd() } }
        var client: TestClient?
        for _ in 0..<200 where client == nil {
            client = try? TestClient(port: port)
            if client == nil { usleep(25_000) }
        }
        let c = try #require(client, "recd under strace did not start (ptrace not permitted here?)")
        c.send("EVENT straced A view\n")
        #expect(c.readLines(1) == ["OK"])
        c.send("SAVE\n")
        #expect(c.readLines(1) == ["OK"])
        stopRecd()
        var raw = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        // strace splits a call another thread interrupts into "<unfinished
        // ...>" and "<... name resumed>": join them where the call completed.
        var unfinished: [Substring: Int] = [:]
        for i in raw.indices {
            let pid = raw[i].prefix { $0 != " " }
            if raw[i].hasSuffix(" <unfinished ...>") {
                unfinished[pid] = i
            } else if raw[i].contains(" resumed>"), let u = unfinished.removeValue(forKey: pid) {
                let tail = raw[i].components(separatedBy: " resumed>").dropFirst().joined(separator: " resumed>")
                // The resumed part is padded to a column: ")      = 0".
                raw[i] = String(raw[u].dropLast(" <unfinished ...>".count)) + tail.replacingOccurrences(of: " +", with: " ", options: .regularExpression)
                raw[u] = ""
            }
        }
        let lines = raw
        func first(after start: Int, _ match: (String) -> Bool) -> Int? {
            lines.indices.first { $0 > start && match(lines[$0]) }
        }
        let logWrite = try #require(first(after: -1) { $0.contains("write(") && $0.contains("events.log>") && $0.contains("straced") })
        let logSync = try #require(first(after: logWrite) { $0.contains("fdatasync(") && $0.contains("events.log>") })
        let reply = try #require(first(after: logWrite) { $0.contains("sendto(") && $0.contains("\"OK\\n\"") })
        #expect(logSync < reply, "the OK was sent (line \(reply)) before the log was synced (line \(logSync))")
        let manifestRename = try #require(first(after: reply) { $0.contains("rename(") && $0.contains("MANIFEST.tmp\", \"") })
        let snapshotSyncs = lines.indices.filter { lines[$0].contains("fsync(") && lines[$0].contains("/snapshots/snapshot-") }
        let snapshotRename = try #require(first(after: reply) { $0.contains("rename(") && $0.contains(".tmp\", \"") && $0.contains("/snapshots/") })
        let dirSync = try #require(first(after: snapshotRename) { $0.contains("fsync(") && $0.hasSuffix("/snapshots>) = 0") },
                                   "\(lines[snapshotRename...].filter { $0.contains("fsync(") || $0.contains("rename(") }.prefix(8))")
        #expect(snapshotSyncs.count >= 3, "events.tsv, items.tsv and the directory are fsynced: \(snapshotSyncs.count)")
        #expect(snapshotSyncs.allSatisfy { $0 < manifestRename } && snapshotRename < manifestRename && dirSync < manifestRename,
                "the manifest (line \(manifestRename)) switched before the snapshot was durable")
    }
}

extension DurabilityTests {
    /// FORGET means the same to every command that reads users, at once
    /// (before any rebuild), after SAVE, after RELOAD of the original
    /// snapshot and after a restart; forgetting a visitor id that ALIAS
    /// stitched to a member forgets the person.
    @Test func forget_ReachesEveryCommand_ThroughAVisitorId_AndStays() throws {
        var rows = AudienceTests.clusters()
        rows += "a1\tA1\tpurchase\t\(Fixtures.t0 + 30 * Fixtures.day)\n" + "a1\tB1\tview\t\(Fixtures.t0 + 30 * Fixtures.day)\n"
        rows += "v9\tB1\tview\t\(Fixtures.t0 + 29 * Fixtures.day)\n"
        let snapshot = Fixtures.directory(["events.tsv": rows])
        let dataDir = Fixtures.directory([:])
        var config = LiveTests.config(snapshot: snapshot, dataDir: dataDir)
        config.segmentRules = try SegmentRules("recent:r>=5;rest:")
        let probes = ["LOOKALIKE a0 k=10", "LOOKALIKE a1", "LOOKALIKE recent k=10", "SEGMENT a1", "SEGMENT COUNT",
                      "AUDIENCE B1 k=10", "REC a1 k=2 WITHMETA", "REC visitor k=2 WITHMETA", "DUE a1"]
        func check(_ c: TestClient, _ phase: String) {
            c.send(probes.map { $0 + "\n" }.joined())
            let r = c.readLines(probes.count)
            #expect(!r[0].contains(" a1 "), "\(phase): LOOKALIKE returns the forgotten user: \(r[0])")
            #expect(r[1] == "OK", "\(phase): LOOKALIKE seeds from the forgotten user: \(r[1])")
            #expect(!r[2].contains(" a1 ") && r[2].hasPrefix("OK"), "\(phase): \(r[2])")
            #expect(r[3].hasPrefix("OK segment none"), "\(phase): SEGMENT still scores them: \(r[3])")
            let counted = r[4].split(separator: " ").dropFirst().enumerated().filter { $0.offset % 2 == 1 }.compactMap { Int($0.element) }
            #expect(counted.reduce(0, +) == 9, "\(phase): SEGMENT COUNT counts the forgotten buyer: \(r[4])")
            #expect(r[5].contains("v9") && !r[5].contains("a1"), "\(phase): AUDIENCE lists the forgotten user: \(r[5])")
            #expect(r[6].contains("(fallback)") || r[6].contains("(unknown)"), "\(phase): REC uses their history: \(r[6])")
            #expect(r[7].contains("(fallback)") || r[7].contains("(unknown)"), "\(phase): the visitor id: \(r[7])")
            #expect(r[8] == "OK", "\(phase): DUE: \(r[8])")
        }
        do {
            let live = try LiveService.start(config)
            let server = try TestServer(live: live)
            let c = try server.connect()
            c.send("LOOKALIKE a0 k=10\nEVENT visitor B2 view\nALIAS visitor a1\nFORGET visitor\n")
            let first = c.readLines(4)
            #expect(first[0].contains(" a1 "), "a1 is a lookalike of a0 before: \(first[0])")
            #expect(first[1...] == ["OK", "OK", "OK"])
            check(c, "before a rebuild")
            c.send("SAVE\n")
            #expect(c.readLines(1) == ["OK"])
            check(c, "after SAVE")
            c.send("RELOAD \(snapshot)\n")
            #expect(c.readLines(1).first?.hasPrefix("OK reloaded") == true)
            check(c, "after RELOAD of the original")
        }
        let server = try TestServer(live: try LiveService.start(config))
        check(try server.connect(), "after a restart")
    }
}

extension DurabilityTests {
    static func infoField(_ c: TestClient, _ name: String) -> String? {
        c.send("INFO live\n")
        let line = c.readLines(1).first ?? ""
        // The line dialect sends INFO as one escaped line of fields.
        let text = line.removingPercentEncoding ?? line
        return text.split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == " " })
            .first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// With appendfsync always, EVENTs that arrive together share one
    /// fdatasync (group commit): pipelined and concurrent writes from three
    /// connections take far fewer syncs than events, and all are there
    /// after a restart.
    @Test func appendfsyncAlways_EventsArrivingTogetherShareAnFsync() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir, fsync: .always))
            let server = try TestServer(live: live)
            let clients = try (0..<3).map { _ in try server.connect() }
            let before = live.log.syncCount
            for (n, c) in clients.enumerated() {
                c.send((0..<100).map { "EVENT g\(n)-\($0) A view\n" }.joined())
            }
            for c in clients { #expect(c.readLines(100).allSatisfy { $0 == "OK" }) }
            let syncs = live.log.syncCount - before
            #expect(syncs >= 1 && syncs < 60, "300 events took \(syncs) fdatasyncs")
            #expect(Self.infoField(clients[0], "event_log_fsyncs").flatMap(Int.init) ?? 0 >= syncs)
        }
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        #expect(live.state.eventCount == 300)
    }

    /// SAVE keeps the newest `snapshot-keep` saved snapshots and deletes
    /// the damaged log pieces an earlier start cut off; INFO shows both.
    @Test func save_KeepsTheNewestSnapshots_AndRemovesDamagedLogPieces() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        do {
            let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
            let server = try TestServer(live: live)
            let c = try server.connect()
            c.send("EVENT u1 C view\n")
            #expect(c.readLines(1) == ["OK"])
        }
        // A torn tail, as a crash mid-write leaves it.
        let log = dataDir + "/events.log"
        let handle = try #require(FileHandle(forWritingAtPath: log))
        handle.seekToEndOfFile()
        handle.write(Data([0x40, 0, 0, 0, 1, 2, 3]))
        try handle.close()
        var config = LiveTests.config(snapshot: snapshot, dataDir: dataDir)
        config.snapshotKeep = 2
        let live = try LiveService.start(config)
        let server = try TestServer(live: live)
        let c = try server.connect()
        #expect(Self.infoField(c, "event_log_damaged_pieces") == "1")
        #expect(Self.infoField(c, "event_log_damaged_bytes") == "7")
        #expect(live.state.eventCount == 1, "the whole record before the tear is kept")
        for n in 0..<3 {
            c.send("EVENT u2 D view\nSAVE\n")
            #expect(c.readLines(2) == ["OK", "OK"], "save \(n)")
        }
        let saved = SavedSnapshot.list(in: dataDir + "/snapshots")
        #expect(saved.count == 2, "\(saved.map(\.name))")
        #expect(live.currentSnapshot == dataDir + "/snapshots/" + (saved.first?.name ?? ""), "the newest is the current one")
        #expect(Self.infoField(c, "saved_snapshots") == "2")
        #expect(Self.infoField(c, "event_log_damaged_pieces") == "0")
        #expect(EventLog.damagedPieces(of: log).isEmpty)
    }
}
