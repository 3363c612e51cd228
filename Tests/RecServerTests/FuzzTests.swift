import Foundation
import Synchronization
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// Random and mutated frames of both dialects against a live server for a
/// bounded time; afterwards it must still answer correctly, with memory
/// bounded. (A longer run: `RECD_FUZZ_SECONDS=600 swift test --filter Fuzz`.)
@Suite(.serialized) struct FuzzTests {
    static let seeds: [[UInt8]] = [
        Array("SIM A k=2\n".utf8), Array("REC u1 k=3 seen=include\r\n".utf8), Array("SESSION A,B,C k=1\n".utf8),
        Array("POPULAR k=5 category=x instock=1 exclude=A,B\n".utf8), Array("INFO\n".utf8), Array("HELP\n".utf8),
        resp("SIM", "A", "k=2"), resp("REC", "u2"), resp("PING"), resp("CONFIG", "GET", "port"),
        Array("*2\r\n$3\r\nSIM\r\n$1\r\nA\r\n".utf8), Array("*-1\r\n".utf8), Array("*0\r\n".utf8),
        Array("*999999999\r\n".utf8), Array("*1\r\n$99999999999\r\n".utf8), Array("*1\r\n$-7\r\n".utf8),
        Array("*x\r\n".utf8), Array("*1\r\n$3\r\nSIMX\r\n".utf8), [0, 0, 0xFF, 0xFE, 0x0A], Array("%ZZ %4\n".utf8),
    ]

    static func mutate(_ frame: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var f = frame
        for _ in 0..<Int(rng.next() % 4) {
            switch rng.next() % 6 {
            case 0 where !f.isEmpty: f[Int(rng.next() % UInt64(f.count))] = UInt8(truncatingIfNeeded: rng.next())
            case 1 where !f.isEmpty: f.removeLast(Int(rng.next() % UInt64(f.count)))
            case 2: f.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(f.count + 1)))
            case 3: f += seeds[Int(rng.next() % UInt64(seeds.count))]
            case 4: f += [UInt8](repeating: UInt8(ascii: "x"), count: Int(rng.next() % 70_000))  // long tokens
            default: f += (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return f
    }

    static func rssBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.filter(\.isNumber)) ?? 0) * 1024
        }
        return 0
    }

    @Test func randomAndMutatedFrames_LeaveTheServerServingWithBoundedMemory() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["RECD_FUZZ_SECONDS"] ?? "3") ?? 3
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.threads = 2 }
        let before = Self.rssBytes()
        let frames = Atomic<Int>(0)
        let deadline = Date().addingTimeInterval(seconds)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var rng = SplitMix64(seed: UInt64(worker + 1))
            while Date() < deadline {
                guard let c = try? server.connect() else { continue }
                // Slowloris now and then: one byte at a time.
                let trickle = rng.next() % 20 == 0
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    let frame = Self.mutate(Self.seeds[Int(rng.next() % UInt64(Self.seeds.count))], &rng)
                    if trickle {
                        for b in frame.prefix(50) { c.send([b]) }
                    } else {
                        c.send(frame)
                    }
                    frames.add(1, ordering: .relaxed)
                }
            }
        }
        let after = Self.rssBytes()
        let check = try server.connect()
        check.send("SIM A k=2\n")
        #expect(check.readLines(1) == ["OK B 0.666667 C 0.408248"])
        let r = try server.connect()
        r.send(resp("PING"))
        #expect(r.readRESP() == .simple("PONG"))
        #expect(frames.load(ordering: .relaxed) > 100)
        #expect(after - before < 256 << 20, "RSS grew from \(before >> 20) MiB to \(after >> 20) MiB")
        print("fuzz: \(frames.load(ordering: .relaxed)) frames in \(seconds) s; RSS \(before >> 20) -> \(after >> 20) MiB")
    }
}
