import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// What client libraries rely on, byte for byte, without needing any of
/// them installed (ClientLibraryTests runs the libraries themselves).
@Suite(.serialized) struct RedisCompatibilityTests {
    @Test func hello3_SwitchesToRESP3_AndRepliesTheServerMap_Hello2SwitchesBack() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send(resp("HELLO", "3") + resp("SIM", "A", "k=2") + resp("CONFIG", "GET", "max-k") + resp("CLIENT", "GETNAME")
               + resp("HELLO", "2") + resp("SIM", "A", "k=2") + resp("HELLO", "4") + resp("HELLO", "x"))
        guard case .map(let hello)? = c.readRESP() else { Issue.record("HELLO 3 is not a map"); return }
        #expect(hello.count == 14)
        #expect(hello[0] == .bulk("server") && hello[4] == .bulk("proto") && hello[5] == .integer(3))
        #expect(hello[8] == .bulk("mode") && hello[9] == .bulk("standalone") && hello[12] == .bulk("modules") && hello[13] == .array([]))
        #expect(c.readRESP() == .array([.array([.bulk("B"), .double("0.666667")]), .array([.bulk("C"), .double("0.408248")])]))
        #expect(c.readRESP() == .map([.bulk("max-k"), .bulk("1000")]))
        #expect(c.readRESP() == .null)
        guard case .array(let hello2)? = c.readRESP() else { Issue.record("HELLO 2 is not a flat array"); return }
        #expect(hello2.count == 14 && hello2[5] == .integer(2))
        #expect(c.readRESP()?.strings == ["B", "0.666667", "C", "0.408248"])
        #expect(c.readRESP() == .error("NOPROTO unsupported protocol version"))
        #expect(c.readRESP() == .error("ERR Protocol version is not an integer or out of range"))
    }

    @Test func hello_WithAuth_UnlocksAPasswordedServer_WrongPasswordAndNoAuthAreRedisErrors() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.requirePass = "pw" }
        let c = try server.connect()
        c.send(resp("HELLO", "3") + resp("HELLO", "3", "AUTH", "default", "nope") + resp("SIM", "A")
               + resp("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "shop") + resp("CLIENT", "GETNAME"))
        #expect(c.readRESP().map { "\($0)" }?.hasPrefix("-NOAUTH HELLO must be called") == true)
        #expect(c.readRESP() == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(c.readRESP() == .error("NOAUTH Authentication required; send AUTH <password>"))
        guard case .map? = c.readRESP() else { Issue.record("HELLO with the right password"); return }
        #expect(c.readRESP() == .bulk("shop"))
    }

    @Test func multiExec_QueuesRunsInOrder_AndAQueueTimeErrorAbortsEverything() throws {
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.tinySnapshotDirectory()))
        let server = try TestServer(live: live)
        let c = try server.connect()
        c.send(resp("MULTI") + resp("EVENT", "m1", "C", "purchase", "ts=\(Fixtures.t0)") + resp("REC", "m1", "k=1") + resp("EXEC"))
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP() == .simple("QUEUED"))
        #expect(c.readRESP() == .simple("QUEUED"))
        #expect(c.readRESP() == .array([.simple("OK"), .array([.bulk("B"), .bulk("0.816497")])]))
        c.send(resp("MULTI") + resp("EVENT", "m2", "A", "view") + resp("NOSUCH") + resp("SIM") + resp("SAVE") + resp("EXEC")
               + resp("REC", "m2", "k=1", "WITHMETA"))
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP() == .simple("QUEUED"))
        #expect(c.readRESP() == .error("ERR UNKNOWN unknown command 'NOSUCH'; HELP lists the commands"))
        #expect(c.readRESP().map { "\($0)" }?.hasPrefix("-ERR ARGS wrong number of arguments") == true)
        #expect(c.readRESP() == .error("ERR Command not allowed inside a transaction"))
        #expect(c.readRESP() == .error("EXECABORT Transaction discarded because of previous errors."))
        guard case .array(let after)? = c.readRESP(), after.count == 2 else { Issue.record("REC WITHMETA"); return }
        #expect(after[1] == .array([.bulk("fallback"), .integer(1), .bulk("unknown"), .integer(1)]), "nothing of the aborted transaction ran")
        c.send(resp("EXEC") + resp("DISCARD") + resp("MULTI") + resp("MULTI") + resp("WATCH", "k") + resp("DISCARD") + resp("WATCH", "k"))
        #expect(c.readRESP() == .error("ERR EXEC without MULTI"))
        #expect(c.readRESP() == .error("ERR DISCARD without MULTI"))
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP() == .error("ERR MULTI calls can not be nested"))
        #expect(c.readRESP() == .error("ERR WATCH inside MULTI is not allowed"))
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP().map { "\($0)" }?.hasPrefix("-ERR WATCH is not supported") == true)
        let line = try server.connect()
        line.send("MULTI\n")
        #expect(line.readLines(1).first?.hasPrefix("ERR SYNTAX MULTI needs the RESP dialect") == true)
    }

    @Test func clientSelectResetTime_AnswerAsRedis_AndClientKillClosesTheOther() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let victim = try server.connect()
        victim.send(resp("CLIENT", "SETNAME", "victim") + resp("CLIENT", "ID"))
        #expect(victim.readRESP() == .simple("OK"))
        guard case .integer(let victimId)? = victim.readRESP() else { Issue.record("CLIENT ID"); return }
        let c = try server.connect()
        c.send(resp("CLIENT", "SETNAME", "has space") + resp("CLIENT", "SETINFO", "LIB-NAME", "redis-py") + resp("CLIENT", "LIST")
               + resp("CLIENT", "MAINT_NOTIFICATIONS", "ON") + resp("SELECT", "0") + resp("SELECT", "1") + resp("TIME") + resp("RESET")
               + resp("CLIENT", "KILL", "ID", String(victimId)))
        #expect(c.readRESP() == .error("ERR Client names cannot contain spaces, newlines or special characters."))
        #expect(c.readRESP() == .simple("OK"))
        guard case .bulk(let list?)? = c.readRESP() else { Issue.record("CLIENT LIST"); return }
        #expect(list.contains("name=victim") && list.contains("lib-name=redis-py") && list.hasSuffix("\n"), "\(list)")
        #expect(c.readRESP() == .error("ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP."))
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP() == .error("ERR DB index is out of range"))
        guard case .array(let time)? = c.readRESP(), time.count == 2, case .bulk(let seconds?) = time[0] else { Issue.record("TIME"); return }
        #expect(abs((Int(seconds) ?? 0) - Int(Date().timeIntervalSince1970)) < 5)
        #expect(c.readRESP() == .simple("RESET"))
        #expect(c.readRESP() == .integer(1))
        #expect(victim.readUntilClosed().closed, "CLIENT KILL closed the other connection")
    }

    @Test func configGetGlobs_AndConfigSetAtRunTime_TheRestNeedARestart() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send(resp("CONFIG", "GET", "max-k", "hnsw-e*", "save") + resp("CONFIG", "SET", "max-k", "2") + resp("SIM", "A", "k=3")
               + resp("CONFIG", "SET", "port", "1") + resp("CONFIG", "SET", "max-k", "zero") + resp("CONFIG", "GET", "max-k"))
        #expect(c.readRESP()?.strings == ["hnsw-ef", "100", "hnsw-ef-construction", "200", "max-k", "1000", "save", ""])
        #expect(c.readRESP() == .simple("OK"))
        #expect(c.readRESP() == .error("ERR SYNTAX k must be an integer from 1 to 2 (max-k), got '3'"))
        #expect(c.readRESP().map { "\($0)" }?.contains("'port' cannot change while recd runs") == true)
        #expect(c.readRESP().map { "\($0)" }?.contains("bad value 'zero' for max-k") == true)
        #expect(c.readRESP()?.strings == ["max-k", "2"])
    }

    @Test func command_DescribesEveryCommandFromTheTable_WithKeySpecsAndDocs() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send(resp("COMMAND", "COUNT") + resp("COMMAND", "INFO", "REC", "NOPE") + resp("COMMAND", "DOCS", "SIM") + resp("COMMAND"))
        #expect(c.readRESP() == .integer(Command.allCases.count))
        guard case .array(let info)? = c.readRESP(), info.count == 2, case .array(let rec) = info[0] else { Issue.record("COMMAND INFO"); return }
        #expect(rec.count == 10 && rec[0] == .bulk("rec") && rec[1] == .integer(-2) && rec[3] == .integer(1) && rec[4] == .integer(1))
        #expect(info[1] == .bulk(nil))
        guard case .array(let docs)? = c.readRESP(), docs.count == 2, case .array(let sim) = docs[1] else { Issue.record("COMMAND DOCS"); return }
        #expect(docs[0] == .bulk("sim"))
        #expect(sim.prefix(2) == [.bulk("summary"), .bulk(Command.sim.spec.summary)])
        #expect(sim.contains(.bulk("group")) && sim.contains(.bulk("arguments")))
        guard case .array(let all)? = c.readRESP() else { Issue.record("COMMAND"); return }
        #expect(all.count == Command.allCases.count)
    }

    @Test func info_EndsInCRLF_WithBlankLinesBetweenSections_AndTheFieldsRedisCliStatReads() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send(resp("INFO") + resp("INFO", "clients", "memory") + resp("HELLO", "3") + resp("INFO", "server"))
        guard case .bulk(let info?)? = c.readRESP() else { Issue.record("INFO"); return }
        #expect(info.hasSuffix("\r\n") && info.contains("\r\n\r\n# Clients\r\n"))
        for field in ["redis_version:", "used_memory:", "connected_clients:", "blocked_clients:", "total_commands_processed:",
                      "total_connections_received:", "loading:", "rdb_bgsave_in_progress:", "aof_rewrite_in_progress:", "db0:keys="] {
            #expect(info.contains("\r\n" + field), "INFO lacks \(field)")
        }
        #expect(info.range(of: "used_memory:")!.lowerBound < info.range(of: "used_memory_rss:")!.lowerBound)
        guard case .bulk(let two?)? = c.readRESP() else { Issue.record("INFO clients memory"); return }
        #expect(two.hasPrefix("# Clients\r\n") && two.contains("\r\n\r\n# Memory\r\n") && !two.contains("# Server"))
        _ = c.readRESP()
        guard case .verbatim(let verbatim)? = c.readRESP() else { Issue.record("INFO under RESP3 is a verbatim string"); return }
        #expect(verbatim.hasPrefix("# Server\r\n"))
    }

    @Test func vsimInRedis8Syntax_ElementFirst_RedisScores_EmptyForAnotherSet() throws {
        let index = IndexBuilder.build(Fixtures.tinySnapshotWithVectors(), config: Fixtures.plainConfig())
        let server = try TestServer(index: index)
        let c = try server.connect()
        c.send(resp("VSIM", "items", "ELE", "A", "WITHSCORES", "COUNT", "2") + resp("VSIM", "items", "VALUES", "2", "0", "1", "COUNT", "1")
               + resp("VSIM", "other", "ELE", "A") + resp("VSIM", "items", "ELE", "nope") + resp("VSIM", "items", "ELE", "A", "FILTER", ".x")
               + resp("HELLO", "3") + resp("VSIM", "items", "ELE", "A", "WITHSCORES", "COUNT", "2"))
        #expect(c.readRESP()?.strings == ["A", "1", "B", "0.996942"])
        #expect(c.readRESP()?.strings == ["C"])
        #expect(c.readRESP() == .array([]))
        #expect(c.readRESP().map { "\($0)" }?.hasPrefix("-ERR NOTFOUND element not found in set") == true)
        #expect(c.readRESP().map { "\($0)" }?.contains("unknown field '.x' in FILTER") == true)
        _ = c.readRESP()
        #expect(c.readRESP() == .map([.bulk("A"), .double("1"), .bulk("B"), .double("0.996942")]))
    }
}

extension RedisCompatibilityTests {
    /// FILTER over the catalog fields, and the other vector-set reads.
    @Test func vsimFilter_AndVcardVdimVembVinfoVismemberVgetattr_AnswerAsRedis8() throws {
        var catalog = Catalog()
        let snapshot = Fixtures.tinySnapshotWithVectors()
        catalog.ensureCount(4)
        for (name, category, price) in [("A", "mugs", 5.0), ("B", "mugs", 12.0), ("C", "cups", 3.0), ("D", "mugs", 2.0)] {
            let id = snapshot.events.items.lookup(name)!
            Array(category.utf8).withUnsafeBufferPointer { catalog.setCategory(id, $0) }
            catalog.setPrice(id, Float(price))
        }
        catalog.setInStock(snapshot.events.items.lookup("D")!, false)
        var s = snapshot
        s.catalog = catalog
        let server = try TestServer(index: IndexBuilder.build(s, config: Fixtures.plainConfig()))
        let c = try server.connect()
        c.send(resp("VSIM", "items", "ELE", "A", "FILTER", ".category == \"mugs\" and .price < 10")
               + resp("VSIM", "items", "ELE", "A", "FILTER", "not (.instock == 1) or .category in [\"cups\"]")
               + resp("VSIM", "items", "ELE", "A", "FILTER", ".colour == 1")
               + resp("VCARD", "items") + resp("VDIM", "items") + resp("VEMB", "items", "A") + resp("VISMEMBER", "items", "A")
               + resp("VISMEMBER", "items", "zz") + resp("VGETATTR", "items", "B") + resp("VINFO", "items") + resp("VCARD", "other"))
        #expect(c.readRESP()?.strings == ["A", "D"])
        #expect(c.readRESP()?.strings == ["D", "C"])
        #expect(c.readRESP().map { "\($0)" }?.contains("unknown field '.colour'") == true)
        #expect(c.readRESP() == .integer(4))
        #expect(c.readRESP() == .integer(2))
        #expect(c.readRESP()?.strings == ["1", "0"])
        #expect(c.readRESP() == .integer(1))
        #expect(c.readRESP() == .integer(0))
        #expect(c.readRESP() == .bulk("{\"category\":\"mugs\",\"price\":12,\"instock\":1}"))
        guard case .array(let info)? = c.readRESP() else { Issue.record("VINFO"); return }
        #expect(info.prefix(6) == [.bulk("quant-type"), .bulk("f32"), .bulk("vector-dim"), .integer(2), .bulk("size"), .integer(4)])
        #expect(c.readRESP() == .integer(0))
    }
}
