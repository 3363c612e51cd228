/// Item vectors as loaded from `embeddings.tsv` (`item v1 ... vd`, an
/// optional header row): item ids interned into the snapshot's item space,
/// vectors flat, row by row, as given (normalised when indexed).
public struct EmbeddingTable: Sendable {
    public let dimension: Int
    public private(set) var items: [UInt32] = []
    public private(set) var values: [Float] = []

    public init(dimension: Int) { self.dimension = dimension }

    public var count: Int { items.count }

    public mutating func append(item: UInt32, _ vector: [Float]) {
        precondition(vector.count == dimension)
        items.append(item)
        values.append(contentsOf: vector)
    }

    /// The binary form, `embeddings.f32`: `RECDVEC1`, then little-endian
    /// u32 dimension and u32 count, then per row a u32 id length, the id's
    /// bytes and `dimension` float32 values. Loads without text parsing;
    /// the same checks apply, with the row number in place of the line.
    public static let binaryMagic: [UInt8] = Array("RECDVEC1".utf8)

    public static func parseBinary(_ bytes: [UInt8], path: String, items: inout ByteInterner) throws(SnapshotError) -> EmbeddingTable {
        var at = 0
        func u32() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            defer { at += 4 }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard bytes.count >= 16, Array(bytes[0..<8]) == binaryMagic else {
            throw .badEmbedding(path: path, line: 0, reason: "not a recd vector file (expected the RECDVEC1 header)")
        }
        at = 8
        guard let d = u32(), let n = u32(), d > 0 else { throw .badEmbedding(path: path, line: 0, reason: "bad header") }
        guard ValueRanges.dimensions.contains(Int(d)) else {
            throw .badEmbedding(path: path, line: 0, reason: "dimension \(d) is outside \(ValueRanges.dimensions.lowerBound)-\(ValueRanges.dimensions.upperBound)")
        }
        // Every row takes at least its id's length word, one id byte and the
        // values: a count the file cannot hold is refused before anything
        // is allocated for it.
        guard UInt64(n) * UInt64(5 + 4 * Int(d)) <= UInt64(bytes.count - 16) else {
            throw .badEmbedding(path: path, line: 0, reason: "header says \(n) rows of dimension \(d); the file has \(bytes.count) bytes")
        }
        var table = EmbeddingTable(dimension: Int(d))
        var row = [Float](repeating: 0, count: Int(d))
        for r in stride(from: 1, through: Int(n), by: 1) {
            guard let length = u32(), at + Int(length) + Int(d) * 4 <= bytes.count, length > 0 else {
                throw .badEmbedding(path: path, line: r, reason: "row truncated or with an empty id (file ends at byte \(bytes.count))")
            }
            let id = Array(bytes[at..<(at + Int(length))])
            at += Int(length)
            for x in 0..<Int(d) {
                let v = Float(bitPattern: u32()!)
                guard v.isFinite else { throw .badEmbedding(path: path, line: r, reason: "value \(x + 1) is not a finite number") }
                row[x] = v
            }
            table.append(item: id.withUnsafeBufferPointer { items.intern($0) }, row)
        }
        guard at == bytes.count else { throw .badEmbedding(path: path, line: Int(n), reason: "\(bytes.count - at) bytes after the last row") }
        if table.count == 0 { throw .badEmbedding(path: path, line: 0, reason: "no vectors") }
        return table
    }

    /// Parses the file. Every row must have the same number of finite
    /// values (exponent forms such as `-5.2e-33` included); the first bad row
    /// stops the load with its line number, since a half-loaded vector set
    /// would quietly skew every search.
    public static func parse(_ bytes: [UInt8], path: String, items: inout ByteInterner) throws(SnapshotError) -> EmbeddingTable {
        var table: EmbeddingTable?
        var failure: SnapshotError?
        bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            var row: [Float] = []
            var idScratch: [UInt8] = []
            while scanner.next() {
                if scanner.fieldCount == 1 && scanner.field(0).isEmpty { continue }
                // A header: the second field is not a number.
                if table == nil && scanner.fieldCount > 1 && ByteParsing.parseDouble(scanner.field(1)) == nil { continue }
                let d = scanner.fieldCount - 1
                if d < 1 {
                    failure = .badEmbedding(path: path, line: scanner.line, reason: "expected an item id and at least one value")
                    return
                }
                if d > ValueRanges.dimensions.upperBound {
                    failure = .badEmbedding(path: path, line: scanner.line,
                                            reason: "\(d) values; the most a vector may have is \(ValueRanges.dimensions.upperBound)")
                    return
                }
                if let t = table, d != t.dimension {
                    failure = .badEmbedding(path: path, line: scanner.line,
                                            reason: "\(d) values, expected \(t.dimension) like the first row")
                    return
                }
                if scanner.field(0).isEmpty {
                    failure = .badEmbedding(path: path, line: scanner.line, reason: "empty item id")
                    return
                }
                row.removeAll(keepingCapacity: true)
                for f in 1...d {
                    guard let v = ByteParsing.parseDouble(scanner.field(f)), v.isFinite, Float(v).isFinite else {
                        let text = String(decoding: scanner.field(f).prefix(32), as: UTF8.self)
                        failure = .badEmbedding(path: path, line: scanner.line,
                                                reason: "value \(f) '\(text)' is not a finite number")
                        return
                    }
                    row.append(Float(v))
                }
                if table == nil { table = EmbeddingTable(dimension: d) }
                table!.append(item: TSVEscape.withUnescaped(scanner.field(0), scratch: &idScratch) { items.intern($0) }, row)
            }
        }
        if let failure { throw failure }
        guard let table else { throw .badEmbedding(path: path, line: 1, reason: "no vectors") }
        return table
    }
}
