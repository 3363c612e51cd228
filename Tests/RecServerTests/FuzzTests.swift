import Foundation
import Synchronization
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// Fuzzing with live state (a data-dir, an event log, SAVE and RELOAD):
/// every command of the command table in both dialects, with valid
/// arguments and arguments swapped for extreme values, every reply read and
/// checked for well-formed framing; then raw mutated frames; then a restart
/// on the same data-dir, which must serve. Any trap kills the test process.
///
/// A longer run: `Benchmarks/fuzz.sh 600` (RECD_FUZZ_SECONDS for this test).
@Suite(.serialized) struct FuzzTests {
    /// The values an attacker tries first.
    static let extremes: [String] = [
        "0", "-0", "1", "-1", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775807",
        "1e15", "-1e15", "1e308", "-1e308", "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "", "0x10", "1.5",
        "2099-01-01", "1969-12-31", "0000-00-00", "9999-12-31T23:59:59+23:59", String(repeating: "9", count: 400),
    ]
    static let long = String(repeating: "x", count: 64 * 1024)
    static let options = ["k", "ef", "since", "now", "ts", "qty", "price", "due", "mode", "seen", "instock",
                          "category", "exclude", "exp", "title"]

    /// Valid arguments for each command (after its name); `nil`: the
    /// command is left to the end of a connection (QUIT) or run rarely.
    static func valid(_ command: Command, _ rng: inout SplitMix64) -> [String] {
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        let user = pick(["u1", "u2", "u4", "nobody", "v\(rng.next() % 50)"]), item = pick(["A", "B", "C", "D", "new\(rng.next() % 20)"])
        switch command {
        case .ping: return pick([[], ["hello"]])
        case .echo: return ["hello"]
        case .quit, .help, .command, .save: return []
        case .info: return pick([[], ["live"], ["server"]])
        case .sim, .vlike: return [item, "k=\(1 + rng.next() % 5)"]
        case .vsim: return pick([["items", "ELE", item, "WITHSCORES", "COUNT", "3"], ["items", "VALUES", "2", "1", "0.5"],
                                 ["items", "ELE", item, "FILTER", ".category == \"c1\" and .price < 10"]])
        case .vcard, .vdim, .vinfo: return ["items"]
        case .vemb, .vismember, .vgetattr: return ["items", item]
        case .rec: return [user, "k=3", pick(["seen=include", "due=1", "mode=cf", "exp=ab"])]
        case .session: return ["A,B,zz", "k=2"]
        case .popular: return ["k=3", "instock=1"]
        case .config: return ["GET", pick(["port", "maxclients", "save", "nothing"])]
        case .event: return [user, item, pick(["view", "cart", "purchase"]), "ts=\(Fixtures.t0 + Int64(rng.next() % 1000))", "qty=2"]
        case .item: return [item, "instock=\(rng.next() % 2)", "category=c\(rng.next() % 3)", "price=9.5"]
        case .forget: return [user]
        case .due: return [user, "now=\(Fixtures.t0 + 40 * Fixtures.day)"]
        case .reload: return []
        case .auth: return ["pw"]
        case .vrec: return ["1,0", "k=2"]
        case .alias: return ["v\(rng.next() % 50)", user == "nobody" ? "u1" : "m\(rng.next() % 5)"]
        case .segment: return [pick([user, "COUNT"])]
        case .lookalike: return [pick([user, "champions"]), "k=5"]
        case .audience: return [item, "k=5", "since=30"]
        case .variant: return [user, "ab"]
        case .experiment: return ["ab"]
        case .hello: return pick([[], ["3"], ["2"], ["3", "SETNAME", "fz"], ["2", "AUTH", "default", "pw"]])
        case .client: return pick([["ID"], ["GETNAME"], ["SETNAME", "fz"], ["LIST"], ["INFO"], ["SETINFO", "LIB-NAME", "x"], ["NOSUCH"]])
        case .select: return [pick(["0", "1"])]
        case .reset, .time, .multi, .exec, .discard, .unwatch, .bgsave: return []
        case .watch: return ["k"]
        case .cluster: return pick([["SLOTS"], ["INFO"], ["MYID"], ["NODES"], ["SHARDS"], ["KEYSLOT", user]])
        case .readonly, .readwrite, .asking: return []
        }
    }

    /// `args` with one to three of them swapped for extremes, long values,
    /// or options the command does not take.
    static func mutated(_ args: [String], _ rng: inout SplitMix64) -> [String] {
        var a = args
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let value = rng.next() % 10 == 0 ? long : extremes[Int(rng.next() % UInt64(extremes.count))]
            switch rng.next() % 4 {
            case 0 where !a.isEmpty: a[Int(rng.next() % UInt64(a.count))] = value
            case 1 where !a.isEmpty:
                let i = Int(rng.next() % UInt64(a.count))
                if let eq = a[i].firstIndex(of: "=") { a[i] = String(a[i][...eq]) + value } else { a[i] = value }
            case 2: a.append(options[Int(rng.next() % UInt64(options.count))] + "=" + value)
            default: if !a.isEmpty { a.removeLast() } else { a.append(value) }
            }
        }
        return a
    }

    static func respFrame(_ args: [String]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.utf8.count)\r\n".utf8) + Array(a.utf8) + [0x0D, 0x0A] }
        return out
    }

    /// A line: each token's spaces, controls and `%` written `%XX`, as the parser decodes them.
    static func lineFrame(_ args: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, a) in args.enumerated() {
            if i > 0 { out.append(0x20) }
            for b in a.utf8 {
                if b <= 0x20 || b == 0x7F || b == UInt8(ascii: "%") { out += Array(String(format: "%%%02X", b).utf8) } else { out.append(b) }
            }
        }
        return out + [0x0A]
    }

    /// Whether `line` is one well-formed line-dialect reply (its newline cut off).
    static func wellFormedLine(_ line: String) -> Bool {
        if line == "OK" || line == "PONG" || line.hasPrefix("OK ") { return true }
        guard line.hasPrefix("ERR ") else { return false }
        let code = line.dropFirst(4).prefix { $0 != " " }
        return !code.isEmpty && code.allSatisfy { $0.isUppercase || $0.isNumber }
    }

    /// Splits `bytes` into well-formed RESP replies; nil if any is malformed
    /// or the bytes end inside one.
    static func respReplies(_ bytes: [UInt8]) -> [RESPValue]? {
        var at = 0, values: [RESPValue] = []
        while at < bytes.count {
            guard let (v, next) = RESPValue.parse(bytes, at) else { return nil }
            values.append(v)
            at = next
        }
        return values
    }

    static func rssBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.filter(\.isNumber)) ?? 0) * 1024
        }
        return 0
    }

    static func liveConfig(snapshot: String, dataDir: String) -> ServerConfig {
        var c = LiveTests.config(snapshot: snapshot, dataDir: dataDir, fsync: .everysec)
        c.experiments = [try! Experiment("ab a:50 b:50")]
        c.maxK = 50
        return c
    }

    struct Tally {
        var frames = 0
        var replies = 0
        var covered = Set<String>()
        var malformed: [String] = []
    }

    /// One connection's worth of commands, each reply read and checked.
    static func structuredSession(_ server: TestServer, resp: Bool, _ rng: inout SplitMix64, _ tally: inout Tally) throws {
        // A generous timeout: a SAVE's or FORGET's fsyncs on a loaded box are
        // slow, not wrong; a server that stopped answering still fails.
        let client = try TestClient(port: server.port, timeoutSeconds: 30)
        var history: [String] = []
        for _ in 0..<(4 + Int(rng.next() % 12)) {
            var command = Command.allCases[Int(rng.next() % UInt64(Command.allCases.count))]
            // The slow ones (a rebuild each) and the closing one stay rare.
            if [.save, .reload, .forget, .bgsave].contains(command) && rng.next() % 4 != 0 { command = .sim }
            let base = valid(command, &rng)
            let args = [command.spec.name] + (rng.next() % 2 == 0 ? base : mutated(base, &rng))
            client.send(resp ? respFrame(args) : lineFrame(args))
            tally.frames += 1
            history.append(String(args.joined(separator: " ").prefix(80)))
            let shown = "\(resp ? "RESP" : "line") \(args.joined(separator: " ").prefix(120)) (after: \(history.suffix(4).dropLast()))"
            if resp {
                guard client.readRESP() != nil else { tally.malformed.append("no well-formed reply to \(shown)"); return }
                tally.replies += 1
                tally.covered.insert(command.spec.name + " resp")
                if command == .quit { return }
            } else {
                guard let line = client.readLines(1).first else { tally.malformed.append("no reply line to \(shown)"); return }
                tally.replies += 1
                if !wellFormedLine(line) { tally.malformed.append("\(shown) -> \(line.prefix(120))") }
                tally.covered.insert(command.spec.name + " line")
                if command == .quit || line.hasPrefix("ERR PROTOCOL") { return }
            }
        }
    }

    static let rawSeeds: [[UInt8]] = [
        Array("SIM A k=2\n".utf8), Array("REC u1 k=3 seen=include\r\n".utf8), Array("EVENT u1 A view ts=1e999\n".utf8),
        respFrame(["EVENT", "u2", "B", "purchase", "qty=nan"]), respFrame(["AUDIENCE", "A", "since=1e15"]),
        Array("*2\r\n$3\r\nSIM\r\n$1\r\nA\r\n".utf8), Array("*-1\r\n".utf8), Array("*0\r\n".utf8),
        Array("*999999999\r\n".utf8), Array("*1\r\n$99999999999\r\n".utf8), Array("*1\r\n$-7\r\n".utf8),
        Array("*x\r\n".utf8), Array("*1\r\n$3\r\nSIMX\r\n".utf8), [0, 0, 0xFF, 0xFE, 0x0A], Array("%ZZ %4\n".utf8),
    ]

    static func mutateRaw(_ frame: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var f = frame
        for _ in 0..<Int(rng.next() % 4) {
            switch rng.next() % 6 {
            case 0 where !f.isEmpty: f[Int(rng.next() % UInt64(f.count))] = UInt8(truncatingIfNeeded: rng.next())
            case 1 where !f.isEmpty: f.removeLast(Int(rng.next() % UInt64(f.count)))
            case 2: f.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(f.count + 1)))
            case 3: f += rawSeeds[Int(rng.next() % UInt64(rawSeeds.count))]
            case 4: f += [UInt8](repeating: UInt8(ascii: "x"), count: Int(rng.next() % 70_000))
            default: f += (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return f
    }

    /// Raw mutated frames, then a half-close: everything recd answers, up
    /// to its close, must split into well-formed replies of the dialect.
    static func rawSession(_ server: TestServer, _ rng: inout SplitMix64, _ tally: inout Tally) throws {
        let client = try server.connect()
        var first: UInt8?
        for _ in 0..<(1 + Int(rng.next() % 6)) {
            let frame = mutateRaw(rawSeeds[Int(rng.next() % UInt64(rawSeeds.count))], &rng)
            if first == nil { first = frame.first }
            client.send(frame)
            tally.frames += 1
        }
        shutdown(client.fd, Int32(SHUT_WR))
        let (bytes, _) = client.readUntilClosed()
        guard let first else { return }
        if first == UInt8(ascii: "*") {
            if let replies = respReplies(bytes) { tally.replies += replies.count } else {
                tally.malformed.append("raw RESP stream: \(String(decoding: bytes.prefix(120), as: UTF8.self))")
            }
        } else {
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() } else if !bytes.isEmpty {
                tally.malformed.append("raw line stream ends inside a line")
            }
            for l in lines {
                let s = String(decoding: l, as: UTF8.self)
                if wellFormedLine(s) { tally.replies += 1 } else { tally.malformed.append("raw line reply: \(s.prefix(120))") }
            }
        }
    }

    @Test func everyCommand_BothDialects_ExtremeArguments_WithLiveState_ThenARestartServes() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RECD_FUZZ_SECONDS"] ?? "4") ?? 4
        let snapshot = Fixtures.tinySnapshotDirectory(), dataDir = Fixtures.directory([:])
        let config = Self.liveConfig(snapshot: snapshot, dataDir: dataDir)
        let before = Self.rssBytes()
        let tally = Mutex(Tally())
        do {
            let live = try LiveService.start(config)
            let server = try TestServer(live: live)
            let deadline = Date().addingTimeInterval(seconds)
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                var rng = SplitMix64(seed: UInt64(worker + 1) &* 0x9E37_79B9 &+ UInt64(Date().timeIntervalSince1970))
                var local = Tally()
                var n = 0
                while Date() < deadline {
                    n += 1
                    do {
                        if n % 4 == 0 { try Self.rawSession(server, &rng, &local) } else {
                            try Self.structuredSession(server, resp: rng.next() % 2 == 0, &rng, &local)
                        }
                    } catch {
                        local.malformed.append("cannot connect: \(error)")
                    }
                }
                tally.withLock { t in
                    t.frames += local.frames
                    t.replies += local.replies
                    t.covered.formUnion(local.covered)
                    t.malformed += local.malformed.prefix(20)
                }
            }
            // The random sessions pick pairs by chance; the ones a short run
            // on a loaded box missed each get one call with valid arguments.
            let all = Set(Command.allCases.flatMap { [$0.spec.name + " resp", $0.spec.name + " line"] })
            var sweep = Tally()
            for pair in all.subtracting(tally.withLock { $0.covered }).sorted() {
                let parts = pair.split(separator: " ")
                guard let command = Command.allCases.first(where: { $0.spec.name == parts[0] }) else { continue }
                let resp = parts[1] == "resp"
                var rng = SplitMix64(seed: 7)
                let args = [command.spec.name] + Self.valid(command, &rng)
                let client = try TestClient(port: server.port, timeoutSeconds: 30)
                client.send(resp ? Self.respFrame(args) : Self.lineFrame(args))
                sweep.frames += 1
                if resp {
                    guard client.readRESP() != nil else { sweep.malformed.append("no well-formed reply to RESP \(args)"); continue }
                } else {
                    guard let line = client.readLines(1).first, Self.wellFormedLine(line) else {
                        sweep.malformed.append("no well-formed line to \(args)")
                        continue
                    }
                }
                sweep.replies += 1
                sweep.covered.insert(pair)
            }
            tally.withLock { t in
                t.frames += sweep.frames
                t.replies += sweep.replies
                t.covered.formUnion(sweep.covered)
                t.malformed += sweep.malformed
            }
            let check = try server.connect()
            check.send("SIM A k=2\nPING\n")
            #expect(check.readLines(2).last == "PONG")
        }
        let after = Self.rssBytes()
        // The restart replays the log the fuzzing wrote, on the same data-dir.
        let live = try LiveService.start(config)
        let server = try TestServer(live: live)
        let check = try server.connect()
        check.send(resp("SIM", "A", "k=2"))
        let restarted = check.readRESP()
        check.send(resp("INFO", "live"))
        let info = check.readRESP()
        let t = tally.withLock { $0 }
        let expectedCoverage = Set(Command.allCases.flatMap { [$0.spec.name + " resp", $0.spec.name + " line"] })
        #expect(t.malformed.isEmpty, "\(t.malformed.count) malformed: \(t.malformed.prefix(5))")
        #expect(t.frames > 200)
        if seconds >= 4 {
            #expect(t.covered == expectedCoverage, "not covered: \(expectedCoverage.subtracting(t.covered).sorted())")
        }
        if case .array = restarted {} else { Issue.record("after the restart SIM answered \(String(describing: restarted))") }
        #expect(after - before < 256 << 20, "RSS grew from \(before >> 20) MiB to \(after >> 20) MiB")
        let skipped = info.map { "\($0)" }?.components(separatedBy: "\r\n").first { $0.hasPrefix("replay_skipped") } ?? "?"
        print("fuzz: \(t.frames) frames, \(t.replies) replies checked, \(t.covered.count)/\(expectedCoverage.count) command x dialect pairs covered, "
              + "\(t.malformed.count) malformed, RSS \(before >> 20) -> \(after >> 20) MiB in \(seconds) s; restart: "
              + "\(restarted.map { "\($0)" } ?? "no answer"), \(skipped), \(live.state.eventCount) live events replayed")
    }
}
