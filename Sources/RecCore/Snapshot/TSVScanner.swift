/// Walks a tab-separated buffer row by row, handing out each row's fields as
/// byte ranges. Field ranges are reused between rows; no row allocates.
///
/// Quotes are not special (the data sets contain `"` inside descriptions),
/// `\r\n` line ends are accepted, and a UTF-8 byte-order mark is skipped.
///
/// Delimiters are found eight bytes at a time (a word compare that flags
/// tab and newline bytes exactly), and a row's field bounds are written
/// through one buffer access: the byte-at-a-time loop with an array append
/// per field was most of a snapshot's parse time.
public struct TSVScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// Field f of the current row is `bytes[bounds[2f] ..< bounds[2f + 1]]`.
    private var bounds: [Int] = []
    public private(set) var fieldCount = 0
    /// 1-based line number of the row last returned.
    public private(set) var line = 0
    var position = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        bounds = [Int](repeating: 0, count: 32)
    }

    @inline(__always)
    public func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        bytes.slice(bounds[2 * i], bounds[2 * i + 1])
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// 0x80 in each byte of `w` that is a tab or a newline, 0 elsewhere.
    /// Exact per byte (no borrow between bytes, unlike `(v - 1) & ~v`).
    @inline(__always)
    static func delimiters(_ w: UInt64) -> UInt64 {
        func zeroBytes(_ v: UInt64) -> UInt64 { ~(((v & low7) &+ low7) | v | low7) }
        return zeroBytes(w ^ (ones &* 0x09)) | zeroBytes(w ^ (ones &* 0x0A))
    }

    /// Advances to the next non-blank row. Returns false at end of input.
    public mutating func next() -> Bool {
        let n = bytes.count
        guard let base = bytes.baseAddress else { return false }
        while position < n {
            line += 1
            let rowStart = position
            var count = 0
            var lineEnd = n
            // Room for every field of the row: at most one more than its tabs.
            // Grown (rarely) by scanning again with a bigger buffer.
            while true {
                var overflow = false
                count = 0
                lineEnd = n
                bounds.withUnsafeMutableBufferPointer { b in
                    let capacity = b.count / 2
                    var start = rowStart
                    var i = rowStart
                    @inline(__always) func record(_ end: Int) -> Bool {
                        if count == capacity { return false }
                        b[2 * count] = start
                        b[2 * count + 1] = end
                        count += 1
                        return true
                    }
                    scan: while i < n {
                        if i + 8 <= n {
                            var m = TSVScanner.delimiters(UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)))
                            while m != 0 {
                                let p = i + m.trailingZeroBitCount >> 3
                                if base[p] == 0x0A {
                                    lineEnd = p
                                    break scan
                                }
                                if !record(p) { overflow = true; return }
                                start = p + 1
                                m &= m - 1
                            }
                            i += 8
                        } else {
                            let byte = base[i]
                            if byte == 0x0A {
                                lineEnd = i
                                break scan
                            }
                            if byte == 0x09 {
                                if !record(i) { overflow = true; return }
                                start = i + 1
                            }
                            i += 1
                        }
                    }
                    var end = lineEnd
                    if end > start, base[end - 1] == 0x0D { end -= 1 }
                    if count == 0 && end == start { return }  // blank line: no fields
                    if !record(end) { overflow = true }
                }
                if !overflow { break }
                bounds = [Int](repeating: 0, count: bounds.count * 2)
            }
            position = lineEnd + 1
            fieldCount = count
            if count > 0 { return true }
        }
        fieldCount = 0
        return false
    }
}
