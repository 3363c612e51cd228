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
            #expect(lines[2] == "OK B 1.48316 D 1")
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
        #expect(lines[4] == "OK A 3", "forgetting the member forgets the visitor")
        #expect(lines[5] == "OK A 3", "and the stitched snapshot user")
    }
}

@Suite(.serialized) struct SegmentTests {
    @Test func rules_ParseAndNameSegments_AndBadRulesAreClearErrors() throws {
        let rules = SegmentRules.standard
        #expect(rules.segment(r: 5, f: 5, m: 5) == "champions")
        #expect(rules.segment(r: 3, f: 4, m: 1) == "loyal")
        #expect(rules.segment(r: 5, f: 1, m: 1) == "new")
        #expect(rules.segment(r: 1, f: 3, m: 3) == "at_risk")
        #expect(rules.segment(r: 2, f: 1, m: 5) == "hibernating")
        #expect(rules.segment(r: 3, f: 3, m: 3) == "needs_attention")
        #expect(throws: ConfigError.self) { try SegmentRules("vip:q>=4") }
        #expect(throws: ConfigError.self) { try SegmentRules("vip:r>=9") }
        #expect(throws: ConfigError.self) { try SegmentRules(":r>=3") }
    }

    @Test func segmentOverTheWire_WithCounts_AndLivePurchasesMovingTheScores() throws {
        let t0 = Fixtures.t0, day = Fixtures.day
        var rows = "user\titem\ttype\ttimestamp\tquantity\n"
        // Five buyers: b4 bought most, most often, most recently.
        for u in 0..<5 {
            for o in 0...u { rows += "b\(u)\tmug\tpurchase\t\(t0 + Int64(20 + u - 3 * o) * day)\t\(u + 1)\n" }
        }
        rows += "lurker\tmug\tview\t\(t0)\t1\n"
        let snapshot = Fixtures.directory(["events.tsv": rows, "items.tsv": "item\tprice\nmug\t2.5\n"])
        let live = try LiveService.start(LiveTests.config(snapshot: snapshot))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("SEGMENT b4\nSEGMENT b0\nSEGMENT lurker\nSEGMENT nobody\nSEGMENT COUNT\n"
               + "EVENT b0 mug purchase ts=\(t0 + 30 * day) qty=100\nSEGMENT b0\n")
        let lines = c.readLines(7)
        #expect(lines[0] == "OK segment champions r 5 f 5 m 5 recency_days 0 orders 5 monetary 62.50")
        #expect(lines[1] == "OK segment hibernating r 1 f 1 m 1 recency_days 4 orders 1 monetary 2.50")
        #expect(lines[2] == "OK segment none reason no%20purchases")
        #expect(lines[3] == "OK segment none reason unknown%20user")
        // Scores run 1..5 with u on all three measures: b3, b4 champions; b2 in between; b0, b1 hibernating.
        #expect(lines[4] == "OK champions 2 hibernating 2 needs_attention 1")
        #expect(lines[5] == "OK")
        // b0 just bought 100 mugs on day 30: most recent and biggest spender now, with a second order.
        #expect(lines[6] == "OK segment needs_attention r 5 f 2 m 5 recency_days 0 orders 2 monetary 252.50")
    }
}

@Suite(.serialized) struct AudienceTests {
    /// Two planted clusters of shoppers: a1..a4 buy from {A1, A2, A3},
    /// b1..b4 from {B1, B2, B3}; a0 and b0 are the seeds.
    static func clusters() -> String {
        var rows = "user\titem\ttype\ttimestamp\n"
        let t0 = Fixtures.t0
        for g in ["a", "b"] {
            for u in 0..<5 {
                for i in 1...3 where (u + i) % 4 != 0 {
                    rows += "\(g)\(u)\t\(g.uppercased())\(i)\tpurchase\t\(t0)\n"
                }
            }
        }
        return rows
    }

    @Test func lookalike_FindsTheSeedsOwnCluster_AndLeavesTheSeedOut() throws {
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.directory(["events.tsv": Self.clusters()])))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("LOOKALIKE a0 k=4\nLOOKALIKE b0 k=10\nLOOKALIKE nobody\nLOOKALIKE a0 k=0\n")
        let lines = c.readLines(4)
        let aUsers = lines[0].split(separator: " ").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(aUsers.count == 4 && aUsers.allSatisfy { $0.hasPrefix("a") && $0 != "a0" }, "\(lines[0])")
        let bUsers = lines[1].split(separator: " ").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(bUsers.count == 4 && bUsers.allSatisfy { $0.hasPrefix("b") && $0 != "b0" }, "only b's own cluster overlaps: \(lines[1])")
        #expect(lines[2] == "OK")
        #expect(lines[3].hasPrefix("ERR SYNTAX k must be"))
    }

    @Test func lookalike_OfASegment_UsesItsCentroid_AndExcludesItsMembers() throws {
        var rows = Self.clusters()
        // Make the a-cluster the recent buyers: they are champions-like by recency.
        rows += "a1\tA1\tpurchase\t\(Fixtures.t0 + 30 * Fixtures.day)\n"
        var config = LiveTests.config(snapshot: Fixtures.directory(["events.tsv": rows]))
        config.segmentRules = try SegmentRules("recent:r>=5;rest:")
        let server = try TestServer(live: try LiveService.start(config))
        let c = try server.connect()
        c.send("SEGMENT a1\nLOOKALIKE recent k=3\n")
        let lines = c.readLines(2)
        #expect(lines[0].hasPrefix("OK segment recent"))
        let found = lines[1].split(separator: " ").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(found.count == 3 && found.allSatisfy { $0.hasPrefix("a") && $0 != "a1" }, "\(lines[1])")
    }

    @Test func audience_ListsViewersAndCartersWhoDidNotBuy_MostRecentFirst() throws {
        let t0 = Fixtures.t0, day = Fixtures.day
        let rows = "user\titem\ttype\ttimestamp\n"
            + "v1\tlamp\tview\t\(t0)\n" + "v2\tlamp\tcart\t\(t0 + 2 * day)\n" + "v3\tlamp\tview\t\(t0 + day)\n"
            + "v3\tlamp\tpurchase\t\(t0 + day)\n" + "v4\tmug\tview\t\(t0 + 3 * day)\n" + "v1\tlamp\tview\t\(t0 - 5 * day)\n"
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.directory(["events.tsv": rows])))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send("AUDIENCE lamp\nAUDIENCE lamp since=2\nEVENT v5 lamp cart ts=\(t0 + 3 * day)\nEVENT v2 lamp purchase ts=\(t0 + 3 * day)\n"
               + "AUDIENCE lamp k=5\nAUDIENCE nothing\n")
        let lines = c.readLines(6)
        // "Now" is the newest event (day 3): v2 carted 1 day ago, v1 viewed 3 days ago; v3 bought.
        #expect(lines[0] == "OK v2 1 v1 3")
        #expect(lines[1] == "OK v2 1")
        #expect(lines[4] == "OK v5 0 v1 3", "a live cart joins, a live purchase leaves")
        #expect(lines[5] == "OK")
    }
}

@Suite(.serialized) struct ExperimentTests {
    static func config() throws -> ServerConfig {
        let snapshot = Fixtures.tinySnapshotDirectory()
        try "A\t1\t0\nB\t0.9\t0.1\nC\t0\t1\nD\t0.1\t0.9\n".write(toFile: snapshot + "/embeddings.tsv", atomically: true, encoding: .utf8)
        var c = LiveTests.config(snapshot: snapshot)
        c.experiments = [try Experiment("homepage control:70 blend:30:mode=vec")]
        return c
    }

    @Test func assignment_IsStableAcrossRestarts_AndCloseToTheWeights() throws {
        let config = try Self.config()
        let e = config.experiments[0]
        var blend = 0
        for u in 0..<10_000 {
            var name = "user\(u)"
            if name.withUTF8({ e.variant(for: $0) }).name == "blend" { blend += 1 }
        }
        #expect(abs(Double(blend) / 10_000 - 0.3) < 0.02, "blend share \(Double(blend) / 10_000)")
        var first: [String] = []
        for round in 0..<2 {
            let server = try TestServer(live: try LiveService.start(config))
            let c = try server.connect()
            c.send((0..<20).map { "VARIANT user\($0) homepage\n" }.joined())
            let answers = c.readLines(20)
            if round == 0 { first = answers } else { #expect(answers == first, "the same variants after a restart") }
        }
        #expect(Set(first).count == 2, "both variants among 20 users: \(first)")
        #expect(first.allSatisfy { $0.hasPrefix("OK experiment homepage variant ") })
    }

    @Test func recServesAndTagsTheVariant_AndEventsCountConversions() throws {
        let config = try Self.config()
        let e = config.experiments[0]
        // Find one user in each variant.
        var users: [String: String] = [:]
        for u in 0..<100 {
            var name = "shopper\(u)"
            users[name.withUTF8 { e.variant(for: $0) }.name] = users[name.withUTF8 { e.variant(for: $0) }.name] ?? name
        }
        let control = try #require(users["control"]), blend = try #require(users["blend"])
        let server = try TestServer(live: try LiveService.start(config))
        let c = try server.connect()
        c.send("EVENT \(control) A view ts=\(Fixtures.t0)\nEVENT \(blend) A view ts=\(Fixtures.t0)\n"
               + "REC \(control) k=1 exp=homepage WITHMETA\nREC \(blend) k=2 exp=homepage WITHMETA\n"
               + "EVENT \(blend) B cart exp=homepage\nEVENT \(blend) B purchase exp=homepage\nEVENT \(control) B view exp=homepage\n"
               + "EXPERIMENT homepage\nREC \(control) exp=nope\n")
        let lines = c.readLines(9)
        // control: co-occurrence from A -> B; blend: by vectors, B (0.994) then D (0.110).
        #expect(lines[2] == "OK B 0.666667 (fallback) 0 (unknown) 0 (variant) control")
        #expect(lines[3] == "OK B 0.993884 D 0.110432 (fallback) 0 (unknown) 0 (variant) blend")
        #expect(lines[7] == "OK control:requests 1 control:clicks 1 control:purchases 0 blend:requests 1 blend:clicks 1 blend:purchases 1")
        #expect(lines[8] == "ERR NOEXPERIMENT no experiment 'nope' in config (known: homepage)")
        let r = try server.connect()
        r.send(resp("REC", control, "k=1", "exp=homepage", "WITHMETA") + resp("REC", control, "k=1", "exp=homepage"))
        // control has seen A and B now: C = 0.408248 + 0.816497.
        #expect(r.readRESP() == .array([.array([.bulk("C"), .bulk("1.22474")]),
                                        .array([.bulk("fallback"), .integer(0), .bulk("unknown"), .integer(0), .bulk("variant"), .bulk("control")])]))
        #expect(r.readRESP()?.strings == ["C", "1.22474"], "without WITHMETA: items and scores only")
    }

    @Test func badExperimentConfig_IsAClearError() {
        #expect(throws: ConfigError.self) { try Experiment("solo a:50") }
        #expect(throws: ConfigError.self) { try Experiment("x a:0 b:50") }
        #expect(throws: ConfigError.self) { try Experiment("x a:50 b:50:mode=fast") }
    }
}
