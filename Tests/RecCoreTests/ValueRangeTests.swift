import Foundation
import Testing
import RecTestSupport
@testable import RecCore

/// Values at the edges of what files and earlier versions may hold.
struct ValueRangeTests {
    @Test func snapshotWriter_QuantitiesBeyondIntegers_AreWrittenWithoutConversionTraps() {
        var out: [UInt8] = []
        for q: Float in [1e19, .infinity, 3, 2.5, 1e9] { SnapshotWriter.row(type: .view, time: 0, quantity: q, into: &out) }
        let rows = String(decoding: out, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t").last.map(String.init) ?? "" }
        #expect(rows[2] == "3" && rows[3] == "2.5" && rows[4] == "1000000000")
        #expect(Double(rows[0]) == 1e19)
    }

    @Test func parseBinary_HugeDeclaredDimension_IsRefusedBeforeAllocating() {
        var bytes = EmbeddingTable.binaryMagic
        for v: UInt32 in [0x7FFF_FFFF, 1] { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        var items = ByteInterner()
        #expect(throws: SnapshotError.self) { try EmbeddingTable.parseBinary(bytes, path: "x.f32", items: &items) }
        do { _ = try EmbeddingTable.parseBinary(bytes, path: "x.f32", items: &items) } catch {
            #expect(error.description.contains("dimension"), "\(error.description)")
        }
    }

    @Test func loader_RefusesTimesOutsideTheRange_AndQuantitiesAboveTheCap() throws {
        let rows = "user\titem\ttype\ttimestamp\tquantity\n"
            + "a\tA\tview\t-9223372036854775807\t1\n" + "a\tA\tview\t99999999999999999\t1\n"
            + "a\tA\tview\t1700000000\t1e19\n" + "a\tB\tview\t1700000000\t2\n"
        let snapshot = try SnapshotLoader.load(directory: Fixtures.directory(["events.tsv": rows]))
        #expect(snapshot.events.count == 1)
        #expect(snapshot.report.rowsRejected == 3)
    }

    /// Backslash escapes (as PostgreSQL's COPY text format) round-trip every byte.
    @Test func tsvEscape_RoundTripsEveryByte() {
        let all = (0...255).map { UInt8($0) } + Array("\\t\\\\n".utf8)
        var escaped: [UInt8] = []
        TSVEscape.append(all, to: &escaped)
        #expect(!escaped.contains(0x09) && !escaped.contains(0x0A) && !escaped.contains(0x0D))
        var scratch: [UInt8] = []
        let back = escaped.withUnsafeBufferPointer { TSVEscape.withUnescaped($0, scratch: &scratch) { Array($0) } }
        #expect(back == all)
    }
}
