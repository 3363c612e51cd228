import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// What an attacker (or a careless client) can send: numbers out of range,
/// non-finite numbers, timestamps from the far past and future, bytes that
/// would break a snapshot file, log records an older version accepted.
/// Each must get a clear error, and the server must go on serving.
@Suite(.serialized) struct HostileInputTests {
    static func liveServer(snapshot: String = Fixtures.tinySnapshotDirectory(), dataDir: String? = nil)
        throws -> (LiveService, TestServer) {
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot, dataDir: dataDir))
        return (live, try TestServer(live: live))
    }

    /// Sends each line, reads one reply line each, then checks the server still answers.
    static func replies(_ server: TestServer, _ lines: [String]) throws -> [String] {
        let client = try server.connect()
        client.send(lines.map { $0 + "\n" }.joined())
        let got = client.readLines(lines.count)
        let check = try server.connect()
        check.send("PING\n")
        #expect(check.readLines(1) == ["PONG"], "the server stopped answering after \(lines)")
        return got
    }

    @Test func audienceSince_HugeOrNotFinite_IsAnErrorNamingTheRange() throws {
        let (_, server) = try Self.liveServer()
        let bad = ["1e15", "1e999", "-1e999", "nan", "inf", "-1", "0", "-0", "36501"]
        let got = try Self.replies(server, bad.map { "AUDIENCE A since=\($0)" } + ["AUDIENCE A since=30"])
        for (value, reply) in zip(bad, got) {
            #expect(reply.hasPrefix("ERR SYNTAX since must be") && reply.contains("36500") && reply.contains("'\(value)'"),
                    "since=\(value): \(reply)")
        }
        #expect(got.last?.hasPrefix("OK") == true)
    }

    @Test func eventTimestamp_OutsideEpochToNowPlusSkew_IsRefused_BackdatedIsAccepted() throws {
        let (_, server) = try Self.liveServer()
        let now = Int64(Date().timeIntervalSince1970)
        let bad = ["-9223372036854775807", "-1", "1969-12-31", "2099-01-01", String(now * 1_000_000), String(now + 86_400), "nan", "1e999"]
        let good = ["2011-02-01", "0", String(now + 60), String(now * 1000)]
        let got = try Self.replies(server, bad.map { "EVENT u1 A view ts=\($0)" } + good.map { "EVENT u1 A view ts=\($0)" }
                                   + ["AUDIENCE A", "SEGMENT u1", "DUE u1", "REC u1"])
        for (value, reply) in zip(bad, got) {
            #expect(reply.hasPrefix("ERR SYNTAX ts must be") && reply.contains("1970-01-01") && reply.contains("max-clock-skew"),
                    "ts=\(value): \(reply)")
        }
        #expect(Array(got[bad.count..<(bad.count + good.count)]) == Array(repeating: "OK", count: good.count))
        #expect(got.suffix(4).allSatisfy { $0.hasPrefix("OK") }, "\(got.suffix(4))")
    }

    @Test func numbers_OutOfRangeOrNotFinite_AreErrorsNamingFieldValueAndRange() throws {
        let (_, server) = try Self.liveServer()
        let cases: [(String, String)] = [
            ("EVENT u1 A view qty=inf", "qty must be"), ("EVENT u1 A view qty=nan", "qty must be"),
            ("EVENT u1 A view qty=1e19", "qty must be"), ("EVENT u1 A view qty=0", "qty must be"),
            ("ITEM A price=inf", "price must be"), ("ITEM A price=nan", "price must be"), ("ITEM A price=1e999", "price must be"),
            ("ITEM A price=-1", "price must be"), ("ITEM A price=1e13", "price must be"),
            ("SIM A k=1e15", "k must be"), ("SIM A k=-0", "k must be"), ("SIM A k=9223372036854775808", "k must be"),
            ("VLIKE A ef=nan", "ef must be"), ("DUE u1 now=1e999", "now must be"), ("DUE u1 now=-9223372036854775807", "now must be"),
            ("DUE u1 now=99999-01-01", "now must be"), ("LOOKALIKE u1 k=0", "k must be"),
        ]
        let got = try Self.replies(server, cases.map(\.0))
        for ((request, expected), reply) in zip(cases, got) {
            #expect(reply.hasPrefix("ERR SYNTAX " + expected) && reply.contains("got '"), "\(request): \(reply)")
        }
    }

    @Test func eventType_Unknown_IsAnErrorListingTheValidOnes() throws {
        let (_, server) = try Self.liveServer()
        let got = try Self.replies(server, ["EVENT u1 A buy", "EVENT u1 A click", "EVENT u1 A purchase"])
        #expect(got[0] == "ERR SYNTAX event type must be view, cart or purchase, got 'buy'")
        #expect(got[1] == "ERR SYNTAX event type must be view, cart or purchase, got 'click'")
        #expect(got[2] == "OK")
    }

    @Test func authWithoutArguments_IsAnArityError_AndLinePingEchoesTheRestOfTheLine() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.requirePass = "pw" }
        let client = try server.connect()
        client.send(["AUTH", "AUTH pw", "PING hello world", "ECHO a b  c"].map { $0 + "\n" }.joined())
        let got = client.readLines(4)
        #expect(got[0].hasPrefix("ERR ARGS wrong number of arguments; usage: AUTH"), "\(got[0])")
        #expect(got[1] == "OK")
        #expect(got[2] == "OK hello%20world" || got[2] == "OK hello world", "\(got[2])")
        #expect(got[3].hasPrefix("OK a"), "\(got[3])")
    }

    @Test func vrecComponents_NotFiniteOrHuge_AreRefused() throws {
        let index = IndexBuilder.build(Fixtures.tinySnapshotWithVectors(), config: Fixtures.plainConfig())
        let server = try TestServer(index: index)
        let got = try Self.replies(server, ["VREC 1,nan", "VREC 1,1e999", "VREC 1e300,1", "VREC 0,0", "VREC 1,0 k=1"])
        for reply in got.prefix(4) { #expect(reply.hasPrefix("ERR SYNTAX vector"), "\(reply)") }
        #expect(got[4] == "OK A 1")
    }

    /// A 300 KB line breaks the line limit: the reply must reach the client
    /// even though most of the line is still unread when recd closes.
    @Test func protocolError_ReplyReachesTheClient_BeforeTheClose() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        for _ in 0..<5 {
            let client = try server.connect()
            client.send(Array("SIM ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 300_000) + [0x0A])
            let (bytes, closed) = client.readUntilClosed()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("ERR PROTOCOL"), "got \(bytes.count) bytes: \(text.prefix(80))")
            #expect(closed)
        }
    }

    /// Every byte 0-255 in user ids, item ids, categories and titles,
    /// through EVENT and ITEM over RESP, SAVE, and a restart.
    @Test func everyByte_InIdsAndCategories_SurvivesSaveAndRestart() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        let all = (0...255).map { UInt8($0) }
        let user: [UInt8] = Array("u".utf8) + all, item: [UInt8] = Array("i".utf8) + all
        let category: [UInt8] = Array("c".utf8) + all.reversed(), title: [UInt8] = Array("t\\n\\".utf8) + all
        do {
            let (_, server) = try Self.liveServer(snapshot: snapshot, dataDir: dataDir)
            let client = try server.connect()
            client.send(respBytes([Array("EVENT".utf8), user, item, Array("purchase".utf8), Array("ts=\(Fixtures.t0)".utf8)]))
            client.send(respBytes([Array("EVENT".utf8), user, Array("A".utf8), Array("purchase".utf8), Array("ts=\(Fixtures.t0)".utf8)]))
            client.send(respBytes([Array("ITEM".utf8), item, Array("category=".utf8) + category, Array("title=".utf8) + title]))
            client.send(resp("SAVE"))
            #expect(client.readRESP() == .simple("OK"))
            #expect(client.readRESP() == .simple("OK"))
            #expect(client.readRESP() == .simple("OK"))
            let saved = client.readRESP()
            guard case .simple(let s)? = saved, s.hasPrefix("OK") else { Issue.record("SAVE: \(String(describing: saved))"); return }
        }
        let (live, _) = try Self.liveServer(snapshot: snapshot, dataDir: dataDir)
        let index = live.store.load()
        let id = item.withUnsafeBufferPointer { index.items.lookup($0) }
        #expect(id != nil, "the item id came back")
        #expect(user.withUnsafeBufferPointer { index.users.lookup($0) } != nil, "the user id came back")
        #expect(index.userCount == 6, "no row was forged: \(index.userCount) users")
        if let id {
            let c = index.catalog.category[Int(id)]
            #expect(c != Catalog.noCategory && index.catalog.categories.withName(c) { Array($0) } == category)
            #expect(Array(index.catalog.title(id).utf8) == Array(String(decoding: title, as: UTF8.self).utf8))
        }
        #expect(index.items.count == 5, "no item was forged: \(index.items.count) items")
    }

    /// A log written by an older recd holds records that can no longer be
    /// applied: the start skips them, counts them in INFO, and serves.
    @Test func replay_SkipsRecordsThatCanNoLongerBeApplied_AndServes() throws {
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        do {
            let (log, _) = try EventLog.open(path: dataDir + "/events.log", policy: .always)
            _ = try log.append(.event(user: Array("bad1".utf8), LiveEvent(item: Array("A".utf8), type: .view, time: -9_223_372_036_854_775_807)), sequence: 1)
            _ = try log.append(.event(user: Array("good".utf8), LiveEvent(item: Array("A".utf8), type: .purchase, time: Fixtures.t0)), sequence: 2)
            _ = try log.append(.event(user: Array("bad2".utf8), LiveEvent(item: Array("B".utf8), type: .purchase, time: Int64.max)), sequence: 3)
            _ = try log.append(.event(user: Array("bad3".utf8), LiveEvent(item: Array("B".utf8), type: .purchase, time: Fixtures.t0, quantity: .infinity)), sequence: 4)
            var patch = ItemPatch(item: Array("A".utf8))
            patch.price = .nan
            _ = try log.append(.item(patch), sequence: 5)
        }
        let (live, server) = try Self.liveServer(snapshot: snapshot, dataDir: dataDir)
        #expect(live.replaySkipped == 4)
        let got = try Self.replies(server, ["AUDIENCE A", "SEGMENT bad1", "SEGMENT bad2", "DUE bad1", "REC good k=1", "INFO"])
        #expect(got.prefix(5).allSatisfy { $0.hasPrefix("OK") }, "\(got)")
        #expect(got[5].contains("replay_skipped_records:4"), "\(got[5])")
        #expect(live.state.eventCount == 1)
    }
}

/// A RESP command whose arguments are raw bytes.
func respBytes(_ args: [[UInt8]]) -> [UInt8] {
    var out = Array("*\(args.count)\r\n".utf8)
    for a in args { out += Array("$\(a.count)\r\n".utf8) + a + [0x0D, 0x0A] }
    return out
}

extension HostileInputTests {
    /// The README's table of argument ranges is the one the parser uses.
    @Test func readme_ListsEveryArgumentRange_AsTheParserChecksIt() throws {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        for (field, range) in ArgumentRanges.table {
            #expect(readme.contains("| `\(field)` | \(range) |"), "README lacks the row for \(field): \(range)")
        }
    }
}
