import Testing
import RecTestSupport
@testable import RecCore

@Suite struct TSVScannerTests {
    /// The rows a plain split gives: lines on "\n" (one "\r" before it
    /// dropped), fields on "\t", blank lines skipped.
    func reference(_ bytes: [UInt8]) -> [(line: Int, fields: [[UInt8]])] {
        var rows: [(Int, [[UInt8]])] = []
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if bytes.last == 0x0A { lines.removeLast() }
        for (n, var line) in lines.enumerated() {
            if line.last == 0x0D { line.removeLast() }
            if line.isEmpty { continue }
            rows.append((n + 1, line.split(separator: 0x09, omittingEmptySubsequences: false).map(Array.init)))
        }
        return rows
    }

    func scan(_ bytes: [UInt8]) -> [(line: Int, fields: [[UInt8]])] {
        bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            var rows: [(Int, [[UInt8]])] = []
            while scanner.next() { rows.append((scanner.line, (0..<scanner.fieldCount).map { Array(scanner.field($0)) })) }
            return rows
        }
    }

    @Test func randomBuffers_SplitExactlyAsAPlainSplit() {
        // Bytes one off a tab or newline (0x08, 0x0B) sit beside real
        // delimiters, where a word-at-a-time search could misfire; rows run
        // past the scanner's first 32 fields, and some end without a newline.
        let alphabet: [UInt8] = [0x09, 0x0A, 0x0D, 0x08, 0x0B, 0x61, 0x62, 0xFF, 0x00, 0x20]
        var rng = SplitMix64(seed: 5)
        for trial in 0..<400 {
            let length = Int(rng.next() % 300)
            let tabHeavy = trial % 4 == 0
            let bytes = (0..<length).map { _ -> UInt8 in
                tabHeavy && rng.next() % 2 == 0 ? 0x09 : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            let got = scan(bytes), expected = reference(bytes)
            #expect(got.count == expected.count, "trial \(trial)")
            for (g, e) in zip(got, expected) {
                #expect(g.line == e.line && g.fields == e.fields, "trial \(trial), line \(e.line)")
            }
        }
    }

    @Test func manyFields_AndByteOrderMark() {
        let row = (0..<100).map { "f\($0)" }.joined(separator: "\t")
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a\tb\r\n\n\(row)".utf8)
        let rows = scan(bytes)
        #expect(rows.map(\.line) == [1, 3])
        #expect(rows[0].fields == [Array("a".utf8), Array("b".utf8)])
        #expect(rows[1].fields.count == 100)
        #expect(rows[1].fields[99] == Array("f99".utf8))
    }
}
