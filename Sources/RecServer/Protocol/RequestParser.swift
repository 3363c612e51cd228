/// Splits buffered bytes into commands. Pure: no sockets, no state beyond
/// the buffer, so every framing case is testable directly.
///
/// A frame starting with `*` is a RESP multibulk; anything else is a line of
/// space-separated tokens, where `%XX` escapes a byte (so ids with spaces can
/// be sent) and is decoded in place.
public enum RequestParser {
    public enum Outcome: Equatable {
        /// A command occupies `consumed` bytes; its arguments are in the ArgList
        /// (zero arguments for a blank line or `*0`).
        case complete(consumed: Int)
        /// More bytes are needed.
        case incomplete
        case failed(ProtocolError)
    }

    public static func parse(_ buffer: UnsafeMutableBufferPointer<UInt8>, from start: Int, to end: Int,
                             limits: RequestLimits, args: inout ArgList) -> Outcome {
        args.removeAll()
        if start >= end { return .incomplete }
        if buffer[start] == UInt8(ascii: "*") {
            return parseMultibulk(UnsafeBufferPointer(buffer), from: start, to: end, limits: limits, args: &args)
        }
        return parseLine(buffer, from: start, to: end, limits: limits, args: &args)
    }

    /// Reads `<digits>\r\n` at `at`. Returns (value, index after CRLF), nil if
    /// incomplete, or a failure for anything that is not a small integer.
    @inline(__always)
    static func readLength(_ b: UnsafeBufferPointer<UInt8>, at: Int, end: Int,
                           error: ProtocolError) -> Result<(Int, Int), ProtocolError>? {
        var i = at
        var negative = false
        if i < end, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var value = 0
        var digits = 0
        while i < end {
            let c = b[i]
            if c == UInt8(ascii: "\r") {
                if i + 1 >= end { return nil }
                if b[i + 1] != UInt8(ascii: "\n") || digits == 0 { return .failure(error) }
                return .success((negative ? -value : value, i + 2))
            }
            let d = c &- 0x30
            if d >= 10 || digits >= 18 { return .failure(error) }
            value = value * 10 + Int(d)
            digits += 1
            i += 1
        }
        return nil
    }

    static func parseMultibulk(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
                               limits: RequestLimits, args: inout ArgList) -> Outcome {
        guard let header = readLength(b, at: start + 1, end: end, error: .invalidMultibulkLength) else {
            return end - start > 32 ? .failed(.invalidMultibulkLength) : .incomplete
        }
        guard case .success(let (count, afterHeader)) = header else {
            if case .failure(let e) = header { return .failed(e) }
            return .incomplete
        }
        if count <= 0 { return .complete(consumed: afterHeader - start) }  // `*0`, `*-1`: nothing to do
        if count > limits.maxArgs { return .failed(.tooManyArguments(count: count, limit: limits.maxArgs)) }
        var i = afterHeader
        var total = 0
        for _ in 0..<count {
            if i >= end { return .incomplete }
            if b[i] != UInt8(ascii: "$") { return .failed(.expectedBulk(found: b[i])) }
            guard let length = readLength(b, at: i + 1, end: end, error: .invalidBulkLength) else {
                return end - i > 32 ? .failed(.invalidBulkLength) : .incomplete
            }
            guard case .success(let (n, afterLength)) = length else {
                if case .failure(let e) = length { return .failed(e) }
                return .incomplete
            }
            if n < 0 { return .failed(.invalidBulkLength) }
            total += n
            if total > limits.maxRequestBytes { return .failed(.requestTooLarge(limit: limits.maxRequestBytes)) }
            if afterLength + n + 2 > end { return .incomplete }
            if b[afterLength + n] != UInt8(ascii: "\r") || b[afterLength + n + 1] != UInt8(ascii: "\n") {
                return .failed(.missingBulkTerminator)
            }
            args.append(afterLength, afterLength + n)
            i = afterLength + n + 2
        }
        return .complete(consumed: i - start)
    }

    static func parseLine(_ b: UnsafeMutableBufferPointer<UInt8>, from start: Int, to end: Int,
                          limits: RequestLimits, args: inout ArgList) -> Outcome {
        var newline = -1
        let scanEnd = min(end, start + limits.maxLineBytes + 2)
        var i = start
        while i < scanEnd {
            if b[i] == UInt8(ascii: "\n") { newline = i; break }
            i += 1
        }
        if newline < 0 {
            return end - start > limits.maxLineBytes + 1 ? .failed(.lineTooLong(limit: limits.maxLineBytes)) : .incomplete
        }
        var lineEnd = newline
        if lineEnd > start, b[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        if lineEnd - start > limits.maxLineBytes { return .failed(.lineTooLong(limit: limits.maxLineBytes)) }
        var p = start
        while p < lineEnd {
            while p < lineEnd, b[p] == UInt8(ascii: " ") || b[p] == UInt8(ascii: "\t") { p += 1 }
            if p >= lineEnd { break }
            let tokenStart = p
            var escaped = false
            while p < lineEnd, b[p] != UInt8(ascii: " "), b[p] != UInt8(ascii: "\t") {
                if b[p] == UInt8(ascii: "%") { escaped = true }
                p += 1
            }
            if args.count >= limits.maxArgs {
                return .failed(.tooManyArguments(count: args.count + 1, limit: limits.maxArgs))
            }
            args.append(tokenStart, escaped ? percentDecode(b, tokenStart, p) : p)
        }
        return .complete(consumed: newline + 1 - start)
    }

    /// Decodes `%XX` in `b[start..<end]` in place; returns the new end.
    /// A `%` not followed by two hex digits stays as it is.
    static func percentDecode(_ b: UnsafeMutableBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var read = start, write = start
        while read < end {
            let c = b[read]
            if c == UInt8(ascii: "%"), read + 2 < end,
               let hi = hexValue(b[read + 1]), let lo = hexValue(b[read + 2]) {
                b[write] = hi << 4 | lo
                read += 3
            } else {
                b[write] = c
                read += 1
            }
            write += 1
        }
        return write
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
