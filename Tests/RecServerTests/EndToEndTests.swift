import Foundation
import Synchronization
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// A real server on an ephemeral port, real sockets, both dialects.
@Suite(.serialized) struct EndToEndTests {
    @Test func lineDialect_AnswersEveryCommandInOrder_WhenPipelined() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let client = try server.connect()
        client.send("PING\nSIM A k=2\nrec u1\nREC nobody k=2\nSESSION C,A k=1\nPOPULAR k=1\nSIM A k=zero\nNOPE\nSIM\n")
        let lines = client.readLines(9)
        #expect(lines == [
            "PONG",
            "OK B 0.666667 C 0.408248",
            "OK C 1.22474 D 1",
            "OK A 3 B 3",
            "OK B 1.07491",  // C at weight 1/2 × 0.816497 + A at weight 1 × 0.666667
            "OK A 3",
            "ERR SYNTAX k must be an integer from 1 to 1000 (max-k), got 'zero'",
            "ERR UNKNOWN unknown command 'NOPE'; HELP lists the commands",
            "ERR ARGS wrong number of arguments; usage: SIM item [k=N] [category=C] [instock=0|1] [exclude=a,b,...] [WITHMETA]",
        ])
    }

    @Test func resp_AnswersLikeRedis_WithScoresArrays() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let client = try server.connect()
        client.send(resp("PING") + resp("SIM", "A", "k=2") + resp("REC", "nobody", "k=1") + resp("FOO", "x"))
        #expect(client.readRESP() == .simple("PONG"))
        #expect(client.readRESP()?.strings == ["B", "0.666667", "C", "0.408248"])
        #expect(client.readRESP()?.strings == ["A", "3"], "items and scores only; WITHMETA says where they came from")
        #expect(client.readRESP() == .error("ERR UNKNOWN unknown command 'FOO'; HELP lists the commands"))
        client.send(resp("INFO"))
        guard case .bulk(let info?) = client.readRESP() else {
            Issue.record("INFO should be a bulk string")
            return
        }
        #expect(info.contains("# Index\r\nitems:4\r\nusers:5\r\n"))
        #expect(info.contains("cmdstat_sim:calls=1,errors=0"))
        #expect(info.contains("connected_clients:1"))
    }

    @Test func framesSplitByteByByte_StillAnswer() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let respClient = try server.connect()
        for b in resp("SIM", "A", "k=1") + resp("PING") {
            respClient.send([b])
            usleep(200)
        }
        #expect(respClient.readRESP()?.strings == ["B", "0.666667"])
        #expect(respClient.readRESP() == .simple("PONG"))
        let lineClient = try server.connect()
        for b in Array("SIM A k=1\r\n".utf8) {
            lineClient.send([b])
            usleep(200)
        }
        #expect(lineClient.readLines(1) == ["OK B 0.666667"])
    }

    @Test func repliesLargerThanTheSocketBuffer_ArriveWhole() throws {
        let events = Fixtures.randomEvents(users: 3000, items: 2000, groups: 2, seed: 4)
        let index = IndexBuilder.build(Snapshot(events: events), config: BuildConfig())
        let server = try TestServer(index: index)
        let client = try server.connect()
        // 300 pipelined POPULAR k=1000 sent before reading: megabytes of replies,
        // far past the socket buffers, so the server must hold and resume output.
        let request = String(repeating: "POPULAR k=1000\n", count: 300)
        let sender = Thread { client.send(request) }
        sender.start()
        let lines = client.readLines(300)
        #expect(lines.count == 300)
        #expect(Set(lines).count == 1, "every reply identical")
        #expect(lines[0].split(separator: " ").count == 1 + 2 * min(1000, index.popularity.ranked.count))
    }

    @Test func overlongLine_GetsAnErrorThenTheConnectionCloses_AndOthersCarryOn() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.limits.maxLineBytes = 100 }
        let bad = try server.connect()
        let good = try server.connect()
        bad.send(String(repeating: "x", count: 5000))
        let (bytes, closed) = bad.readUntilClosed()
        #expect(String(decoding: bytes, as: UTF8.self) == "ERR PROTOCOL Protocol error: line longer than max-line-bytes (100)\n")
        #expect(closed)
        good.send("PING\n")
        #expect(good.readLines(1) == ["PONG"])
    }

    @Test func malformedRESP_GetsAProtocolErrorThenAClose() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let client = try server.connect()
        client.send("*1\r\n$-5\r\n")
        let (bytes, closed) = client.readUntilClosed()
        #expect(String(decoding: bytes, as: UTF8.self) == "-ERR PROTOCOL Protocol error: invalid bulk length\r\n")
        #expect(closed)
    }

    @Test func quit_RepliesThenCloses() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let client = try server.connect()
        client.send("PING\nQUIT\nPING\n")
        let (bytes, closed) = client.readUntilClosed()
        #expect(String(decoding: bytes, as: UTF8.self) == "PONG\nOK\n")
        #expect(closed)
    }

    @Test func connectionsBeyondMaxclients_AreRefusedWithAnError() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.maxClients = 2 }
        let a = try server.connect(), b = try server.connect()
        a.send("PING\n")
        b.send("PING\n")
        #expect(a.readLines(1) == ["PONG"])
        #expect(b.readLines(1) == ["PONG"])
        let c = try server.connect()
        let (bytes, closed) = c.readUntilClosed()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("-ERR MAXCLIENTS"))
        #expect(closed)
    }

    @Test func manyClientsOnSeveralThreads_GetTheirOwnAnswers() throws {
        let events = Fixtures.randomEvents(users: 500, items: 300, seed: 8)
        let index = IndexBuilder.build(Snapshot(events: events), config: BuildConfig())
        let server = try TestServer(index: index) { $0.threads = 3 }
        // Expected answers computed in-process.
        let scratch = QueryScratch()
        let encoder = ReplyEncoder(dialect: .line)
        var answers: [String] = []
        for u in 0..<50 {
            index.recommend(user: index.users.lookup("user\(u)"), options: QueryOptions(k: 5), scratch: scratch)
            var out: [UInt8] = []
            encoder.recommendations(scratch.result, names: index.items, into: &out)
            answers.append(String(decoding: out.dropLast(), as: UTF8.self))
        }
        let expected = answers
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let client = try? server.connect() else { failures.withLock { $0 += 1 }; return }
            client.send((0..<50).map { "REC user\($0) k=5\n" }.joined())
            if client.readLines(50) != expected { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    /// The real Redis client, when installed (`apt-get install redis-tools`).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-cli"),
                   "needs /usr/bin/redis-cli (apt-get install redis-tools)"))
    func redisCLI_TalksToRecd() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        func redisCLI(_ args: String...) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
            process.arguments = ["-p", String(server.port)] + args
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        #expect(try redisCLI("PING") == "PONG\n")
        #expect(try redisCLI("SIM", "A", "k=2") == "B\n0.666667\nC\n0.408248\n")
        #expect(try redisCLI("REC", "nobody", "k=1") == "A\n3\n")
        #expect(try redisCLI("INFO").contains("items:4"))
    }
}
