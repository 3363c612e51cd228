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
            while scanner.next() {
                if scanner.fieldCount == 1 && scanner.field(0).isEmpty { continue }
                // A header: the second field is not a number.
                if table == nil && scanner.fieldCount > 1 && ByteParsing.parseDouble(scanner.field(1)) == nil { continue }
                let d = scanner.fieldCount - 1
                if d < 1 {
                    failure = .badEmbedding(path: path, line: scanner.line, reason: "expected an item id and at least one value")
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
                table!.append(item: items.intern(scanner.field(0)), row)
            }
        }
        if let failure { throw failure }
        guard let table else { throw .badEmbedding(path: path, line: 1, reason: "no vectors") }
        return table
    }
}
