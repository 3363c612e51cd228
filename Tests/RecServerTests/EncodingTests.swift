import Foundation
import Testing
@testable import RecCore
import RecTestSupport
@testable import RecServer

@Suite struct NumberWriterTests {
    func score(_ v: Float) -> String {
        var out: [UInt8] = []
        NumberWriter.writeScore(v, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func scores_HaveSixSignificantDigits_LikePrintfG() {
        #expect(score(0) == "0")
        #expect(score(1) == "1")
        #expect(score(0.5) == "0.5")
        #expect(score(2.0 / 3) == "0.666667")
        #expect(score(835.031) == "835.031")
        #expect(score(123_456.7) == "123457")
        #expect(score(0.000123456) == "0.000123456")
        #expect(score(-1.25) == "-1.25")
        #expect(score(9.9999996) == "10")
        #expect(score(1.5e-7) == "1.5e-07")
        #expect(score(3e20) == "3e+20")
        #expect(score(.nan) == "0")
    }

    @Test func decimalExponent_IsFloorLog10_AcrossTheDecades() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20000 {
            let d = Double(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next() % 0x7F00_0000) | 1))
            #expect(NumberWriter.decimalExponent(d) == Int(log10(d).rounded(.down)), "\(d)")
        }
        // Exactly at the decade boundaries inside the compared range (below
        // 1e-5, log10 decides, as before).
        for p in -4...15 {
            let ten = pow(10, Double(p))
            #expect(NumberWriter.decimalExponent(ten) == p)
            #expect(NumberWriter.decimalExponent(ten.nextDown) == p - 1)
        }
    }

    @Test func scores_RoundTripWithinSixDigits_OnRandomValues() {
        var rng = SplitMix64(seed: 1)
        for _ in 0..<5000 {
            let v = Float(Double(rng.next() % 10_000_000) / 1000) * (rng.next() % 2 == 0 ? 1 : 1e-4)
            let text = score(v)
            let back = Double(text)!
            #expect(abs(back - Double(v)) <= abs(Double(v)) * 1e-5 + 1e-12, "\(v) -> \(text)")
        }
    }

    @Test func integers_WriteAllDigits() {
        for v in [0, 7, 10, 99, 12345, -42, Int.max, Int.min + 1] {
            var out: [UInt8] = []
            NumberWriter.writeInt(v, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(v))
        }
    }
}

@Suite struct ReplyEncoderTests {
    func encode(_ dialect: Dialect, _ body: (ReplyEncoder, inout [UInt8]) -> Void) -> String {
        encode(ReplyEncoder(dialect: dialect), body)
    }

    func encode(_ encoder: ReplyEncoder, _ body: (ReplyEncoder, inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        body(encoder, &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func statusAndErrors_InBothDialects() {
        #expect(encode(.resp) { $0.status("PONG", into: &$1) } == "+PONG\r\n")
        #expect(encode(.line) { $0.status("PONG", into: &$1) } == "PONG\n")
        #expect(encode(.resp) { $0.error("ARGS", "bad\r\nthing", into: &$1) } == "-ERR ARGS bad  thing\r\n")
        #expect(encode(.line) { $0.error("ARGS", "bad", into: &$1) } == "ERR ARGS bad\n")
    }

    @Test func infoText_IsABulkInRESP_AndOneLineOfFieldsInTheLineDialect() {
        let info = "# Server\r\nuptime_in_seconds:3\r\n# Index\r\nitems:4\r\n"
        #expect(encode(.resp) { $0.text(info, into: &$1) } == "$49\r\n\(info)\r\n")
        #expect(encode(.line) { $0.text(info, into: &$1) } == "OK uptime_in_seconds:3 items:4\n")
    }

    /// Items and scores only, shaped like ZRANGE WITHSCORES in each
    /// protocol; where they came from only with WITHMETA.
    @Test func recommendations_AreWithScoresReplies_AndMetaOnlyWhenAsked() {
        let index = Fixtures.tinyIndex()
        let scratch = QueryScratch()
        index.similar(to: index.items.lookup("A"), options: QueryOptions(k: 3), scratch: scratch)
        let resp = encode(.resp) { $0.recommendations(scratch.result, names: index.items, into: &$1) }
        #expect(resp == "*6\r\n$1\r\nB\r\n$8\r\n0.666667\r\n$1\r\nC\r\n$8\r\n0.408248\r\n$1\r\nD\r\n$1\r\n1\r\n")
        let resp3 = encode(ReplyEncoder(dialect: .resp, resp3: true)) { $0.recommendations(scratch.result, names: index.items, into: &$1) }
        #expect(resp3 == "*3\r\n*2\r\n$1\r\nB\r\n,0.666667\r\n*2\r\n$1\r\nC\r\n,0.408248\r\n*2\r\n$1\r\nD\r\n,1\r\n")
        let line = encode(.line) { $0.recommendations(scratch.result, names: index.items, into: &$1) }
        #expect(line == "OK B 0.666667 C 0.408248 D 1\n")
        #expect(encode(.line) { $0.recommendations(scratch.result, names: index.items, meta: true, into: &$1) }
                == "OK B 0.666667 C 0.408248 D 1 (fallback) 1 (unknown) 0\n")
        index.recommend(user: nil, options: QueryOptions(k: 1), scratch: scratch)
        #expect(encode(.resp) { $0.recommendations(scratch.result, names: index.items, meta: true, into: &$1) }
                == "*2\r\n*2\r\n$1\r\nA\r\n$1\r\n3\r\n*4\r\n$8\r\nfallback\r\n:1\r\n$7\r\nunknown\r\n:1\r\n")
        #expect(encode(ReplyEncoder(dialect: .resp, resp3: true)) { $0.recommendations(scratch.result, names: index.items, meta: true, into: &$1) }
                == "*2\r\n*1\r\n*2\r\n$1\r\nA\r\n,3\r\n%2\r\n$8\r\nfallback\r\n:1\r\n$7\r\nunknown\r\n:1\r\n")
    }

    @Test func twoDigitScoreLengths_ArePatchedCorrectly() {
        var events = EventTable()
        for u in 0..<3 { events.append(user: "u\(u)", item: "X", type: .purchase, time: 0) }
        var config = Fixtures.plainConfig()
        config.weights = EventWeights(view: 1, cart: 1, purchase: 0.000123456)
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        let scratch = QueryScratch()
        index.popular(options: QueryOptions(k: 1), scratch: scratch)
        let resp = encode(.resp) { $0.recommendations(scratch.result, names: index.items, into: &$1) }
        // "*2 $1 X $11 0.00037037.." : the declared length must be the score's length.
        let parts = resp.components(separatedBy: "\r\n")
        #expect(parts.count == 6)
        #expect(parts[3] == "$\(parts[4].count)")
        #expect(parts[4].count >= 10)
        #expect(abs(Double(parts[4])! - 0.000370368) < 1e-9)
    }

    @Test func lineDialect_EscapesIdsThatWouldBreakTheLine() {
        var names = ByteInterner()
        names.intern("BANK CHARGES")
        names.intern("100%")
        var result = ResultList()
        result.append(0, 1)
        result.append(1, 2)
        #expect(encode(.line) { $0.recommendations(result, names: names, into: &$1) } == "OK BANK%20CHARGES 1 100%25 2\n")
        #expect(encode(.resp) { $0.recommendations(result, names: names, into: &$1) }.contains("$12\r\nBANK CHARGES\r\n"))
    }
}

@Suite struct CommandTableTests {
    @Test func lookup_IsCaseInsensitive_AndExact() {
        for (text, command) in [("sim", Command.sim), ("SIM", .sim), ("Rec", .rec), ("session", .session), ("PiNg", .ping)] {
            var t = text
            #expect(t.withUTF8 { Command.lookup($0) } == command)
        }
        for text in ["SIMS", "SI", "", "RE C"] {
            var t = text
            #expect(t.withUTF8 { Command.lookup($0) } == nil)
        }
    }

    @Test func everyCommand_HasASpecWithItsOwnName() {
        #expect(Command.specs.count == Command.allCases.count)
        for c in Command.allCases {
            var name = c.spec.name
            #expect(name.withUTF8 { Command.lookup($0) } == c)
        }
    }
}
