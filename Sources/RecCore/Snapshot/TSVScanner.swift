/// Walks a tab-separated buffer row by row, handing out each row's fields as
/// byte ranges. Field ranges are reused between rows; no row allocates.
///
/// Quotes are not special (the data sets contain `"` inside descriptions),
/// `\r\n` line ends are accepted, and a UTF-8 byte-order mark is skipped.
public struct TSVScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var fieldStart: [Int] = []
    public private(set) var fieldEnd: [Int] = []
    /// 1-based line number of the row last returned.
    public private(set) var line = 0
    var position = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        fieldStart.reserveCapacity(16)
        fieldEnd.reserveCapacity(16)
    }

    public var fieldCount: Int { fieldStart.count }

    @inline(__always)
    public func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        bytes.slice(fieldStart[i], fieldEnd[i])
    }

    /// Advances to the next non-blank row. Returns false at end of input.
    public mutating func next() -> Bool {
        let n = bytes.count
        while position < n {
            line += 1
            fieldStart.removeAll(keepingCapacity: true)
            fieldEnd.removeAll(keepingCapacity: true)
            var start = position
            var i = position
            while i < n {
                let b = bytes[i]
                if b == 0x0A { break }
                if b == 0x09 {
                    fieldStart.append(start)
                    fieldEnd.append(i)
                    start = i + 1
                }
                i += 1
            }
            var end = i
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            position = i + 1
            if fieldStart.isEmpty && end == start { continue }  // blank line
            fieldStart.append(start)
            fieldEnd.append(end)
            return true
        }
        return false
    }
}
