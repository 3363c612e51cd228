import Testing
@testable import RecServer

/// The framing state machine, without sockets. Error tests are named after
/// the bad input, as Redis's protocol tests are.
@Suite struct RequestParserTests {
    var limits = RequestLimits()

    /// Parses every frame in `input`; returns the commands and the outcome
    /// that stopped parsing (.incomplete at a clean end).
    func parseAll(_ input: [UInt8]) -> (commands: [[String]], stop: RequestParser.Outcome) {
        var bytes = input
        var args = ArgList()
        var commands: [[String]] = []
        var at = 0
        return bytes.withUnsafeMutableBufferPointer { buf in
            while true {
                let outcome = RequestParser.parse(buf, from: at, to: buf.count, limits: limits, args: &args)
                guard case .complete(let consumed) = outcome else { return (commands, outcome) }
                if args.count > 0 {
                    commands.append((0..<args.count).map {
                        String(decoding: UnsafeBufferPointer(rebasing: buf[args.starts[$0]..<args.ends[$0]]), as: UTF8.self)
                    })
                }
                at += consumed
            }
        }
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func pipelinedRESP_DecodesEveryCommandInOrder() {
        let input = bytes("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSIM\r\n$6\r\n85123A\r\n$4\r\nk=10\r\n*2\r\n$3\r\nREC\r\n$0\r\n\r\n")
        let (commands, stop) = parseAll(input)
        #expect(commands == [["PING"], ["SIM", "85123A", "k=10"], ["REC", ""]])
        #expect(stop == .incomplete)
    }

    @Test func bulkStrings_MayHoldSpacesCRLFAndBinary() {
        let (commands, _) = parseAll(bytes("*2\r\n$3\r\nSIM\r\n$14\r\nBANK CHARGES\r\n\r\n"))
        #expect(commands == [["SIM", "BANK CHARGES\r\n"]])
    }

    @Test func pipelinedLines_WithLFAndCRLF_AndBlankLines() {
        let (commands, stop) = parseAll(bytes("PING\nSIM  A   k=3\r\n\r\n\tREC u1\nPOPULAR"))
        #expect(commands == [["PING"], ["SIM", "A", "k=3"], ["REC", "u1"]])
        #expect(stop == .incomplete)  // "POPULAR" waits for its newline
    }

    @Test func lineTokens_DecodePercentEscapes_InPlace() {
        let (commands, _) = parseAll(bytes("SIM BANK%20CHARGES 100%25 %zz %4\n"))
        #expect(commands == [["SIM", "BANK CHARGES", "100%", "%zz", "%4"]])
    }

    @Test func everySplitPoint_OfAPipeline_GivesTheSameCommands() {
        let whole = bytes("*2\r\n$3\r\nREC\r\n$5\r\nuser1\r\nSIM A k=2\r\n*1\r\n$4\r\nPING\r\n")
        let expected = parseAll(whole).commands
        #expect(expected.count == 3)
        // Feed a prefix, then the whole: a prefix must never yield a wrong command.
        for cut in 0...whole.count {
            let (partial, stop) = parseAll(Array(whole[0..<cut]))
            #expect(partial == Array(expected.prefix(partial.count)), "cut at \(cut)")
            if case .failed(let e) = stop { Issue.record("cut at \(cut) failed: \(e)") }
        }
    }

    @Test func emptyAndNullMultibulk_AreSkipped() {
        let (commands, stop) = parseAll(bytes("*0\r\n*-1\r\nPING\n"))
        #expect(commands == [["PING"]])
        #expect(stop == .incomplete)
    }

    @Test func multibulkLengthThatIsNotANumber_IsAProtocolError() {
        #expect(parseAll(bytes("*x\r\n")).stop == .failed(.invalidMultibulkLength))
        #expect(parseAll(bytes("*1x\r\n")).stop == .failed(.invalidMultibulkLength))
        #expect(parseAll(bytes("*\r\n")).stop == .failed(.invalidMultibulkLength))
    }

    @Test func multibulkLengthWithoutCRLF_IsAnErrorOnceTooLongToBeANumber() {
        #expect(parseAll(bytes("*12")).stop == .incomplete)
        #expect(parseAll(bytes("*" + String(repeating: "1", count: 40))).stop == .failed(.invalidMultibulkLength))
    }

    @Test func negativeBulkLength_IsAProtocolError() {
        #expect(parseAll(bytes("*1\r\n$-1\r\n")).stop == .failed(.invalidBulkLength))
    }

    @Test func bulkLengthThatIsNotANumber_IsAProtocolError() {
        #expect(parseAll(bytes("*1\r\n$abc\r\n")).stop == .failed(.invalidBulkLength))
    }

    @Test func missingDollarBeforeABulk_IsAProtocolError() {
        #expect(parseAll(bytes("*1\r\n+PING\r\n")).stop == .failed(.expectedBulk(found: UInt8(ascii: "+"))))
    }

    @Test func bulkNotFollowedByCRLF_IsAProtocolError() {
        #expect(parseAll(bytes("*1\r\n$4\r\nPINGxx")).stop == .failed(.missingBulkTerminator))
    }

    @Test func hugeDeclaredBulk_FailsAtOnce_WithoutWaitingForTheBytes() {
        #expect(parseAll(bytes("*1\r\n$999999999999\r\n")).stop == .failed(.requestTooLarge(limit: limits.maxRequestBytes)))
        // 18+ digit lengths are rejected as malformed, not overflowed.
        #expect(parseAll(bytes("*1\r\n$99999999999999999999\r\n")).stop == .failed(.invalidBulkLength))
    }

    @Test mutating func tooManyArguments_InEitherDialect_IsAProtocolError() {
        limits.maxArgs = 3
        #expect(parseAll(bytes("*4\r\n")).stop == .failed(.tooManyArguments(count: 4, limit: 3)))
        #expect(parseAll(bytes("a b c d\n")).stop == .failed(.tooManyArguments(count: 4, limit: 3)))
        #expect(parseAll(bytes("a b c\n")).commands == [["a", "b", "c"]])
    }

    @Test mutating func lineOverMaxLineBytes_IsAProtocolError_EvenBeforeItsNewline() {
        limits.maxLineBytes = 64
        let long = String(repeating: "x", count: 65)
        #expect(parseAll(bytes(long + "\n")).stop == .failed(.lineTooLong(limit: 64)))
        #expect(parseAll(bytes(long + long)).stop == .failed(.lineTooLong(limit: 64)))
        #expect(parseAll(bytes(String(repeating: "x", count: 64) + "\r\n")).commands.count == 1)
    }

    @Test func binaryGarbageAndNULs_InALine_AreJustTokens() {
        let (commands, _) = parseAll([0x00, 0xFF, 0x20, 0xC3, 0x28, 0x0A])
        #expect(commands.count == 1)
        #expect(commands[0].count == 2)
    }
}
