/// Finds where one complete reply ends in a receive buffer, without
/// decoding it: the load generator only needs to count replies and errors.
enum ReplyScanner {
    enum Outcome {
        case incomplete
        case reply(end: Int, isError: Bool)
    }

    static func scan(_ b: UnsafeBufferPointer<UInt8>, from: Int, resp: Bool) -> Outcome {
        if !resp {
            var i = from
            while i < b.count {
                if b[i] == 0x0A {
                    let isError = i - from >= 3 && b[from] == UInt8(ascii: "E") && b[from + 1] == UInt8(ascii: "R") && b[from + 2] == UInt8(ascii: "R")
                    return .reply(end: i + 1, isError: isError)
                }
                i += 1
            }
            return .incomplete
        }
        guard from < b.count else { return .incomplete }
        let isError = b[from] == UInt8(ascii: "-")
        guard let end = value(b, from) else { return .incomplete }
        return .reply(end: end, isError: isError)
    }

    /// End of the RESP value at `at`, or nil if it is not all there yet.
    static func value(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> Int? {
        guard at < b.count, let (n, next) = header(b, at) else { return nil }
        switch b[at] {
        case UInt8(ascii: "$"):
            if n < 0 { return next }
            let end = next + n + 2
            return end <= b.count ? end : nil
        case UInt8(ascii: "*"):
            var p = next
            for _ in 0..<max(0, n) {
                guard let q = value(b, p) else { return nil }
                p = q
            }
            return p
        default:
            return next  // +simple, -error, :integer: the line is the value
        }
    }

    /// The number after the type byte (0 for +/-) and where the line ends.
    static func header(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> (Int, Int)? {
        var i = at + 1, n = 0, negative = false
        while i + 1 < b.count {
            let c = b[i]
            if c == 0x0D && b[i + 1] == 0x0A { return (negative ? -n : n, i + 2) }
            if c == UInt8(ascii: "-") { negative = true } else if c >= 0x30 && c <= 0x39 { n = n * 10 + Int(c - 0x30) }
            i += 1
        }
        return nil
    }
}
