import RecCore

/// Encodes replies into a connection's output bytes, in its dialect.
///
/// RESP: `+OK`, `-ERR CODE message`, `$n` bulks, `*n` arrays, as Redis.
/// Line: exactly one `\n`-terminated line per reply; lists are
/// `OK item score item score ...`, errors `ERR CODE message`, and bytes of
/// ids that would break the line (space, control, `%`) are written `%XX`.
public struct ReplyEncoder: Sendable {
    public let dialect: Dialect

    public init(dialect: Dialect) { self.dialect = dialect }

    @inline(__always)
    func crlf(_ out: inout [UInt8]) {
        if dialect == .resp { out.append(0x0D) }
        out.append(0x0A)
    }

    public func status(_ text: StaticString, into out: inout [UInt8]) {
        if dialect == .resp { out.append(UInt8(ascii: "+")) }
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        crlf(&out)
    }

    /// A status built at run time (operations' outcomes), line ends blanked.
    public func status(message: String, into out: inout [UInt8]) {
        if dialect == .resp { out.append(UInt8(ascii: "+")) }
        for b in message.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
        crlf(&out)
    }

    /// Redis's own error words (NOAUTH, WRONGPASS) lead the RESP error, so
    /// client libraries recognise them; the line dialect keeps `ERR CODE`.
    public func redisError(_ code: String, _ message: String, into out: inout [UInt8]) {
        errorLine(dialect == .resp ? "-" : "ERR ", code, message, into: &out)
    }

    /// `code` is a stable machine-readable word (ARGS, SYNTAX, UNKNOWN, ...).
    public func error(_ code: String, _ message: String, into out: inout [UInt8]) {
        errorLine(dialect == .resp ? "-ERR " : "ERR ", code, message, into: &out)
    }

    func errorLine(_ prefix: StaticString, _ code: String, _ message: String, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        out.append(contentsOf: code.utf8)
        out.append(UInt8(ascii: " "))
        for b in message.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
        crlf(&out)
    }

    public func bulk(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        switch dialect {
        case .resp:
            out.append(UInt8(ascii: "$"))
            NumberWriter.writeInt(bytes.count, into: &out)
            out.append(contentsOf: [0x0D, 0x0A])
            out.append(contentsOf: bytes)
            out.append(contentsOf: [0x0D, 0x0A])
        case .line:
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K"), 0x20])
            escapeToken(bytes, into: &out)
            out.append(0x0A)
        }
    }

    public func emptyArray(into out: inout [UInt8]) {
        if dialect == .resp { out.append(contentsOf: Array("*0\r\n".utf8)) } else { out.append(contentsOf: Array("OK\n".utf8)) }
    }

    /// Named fields: RESP `[name, value, name, value, ...]`, line `OK name value ...`.
    public func fields(_ pairs: [(String, String)], into out: inout [UInt8]) {
        if dialect == .resp {
            out.append(UInt8(ascii: "*"))
            NumberWriter.writeInt(pairs.count * 2, into: &out)
            out.append(contentsOf: [0x0D, 0x0A])
        } else {
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K")])
        }
        for (name, value) in pairs {
            for var s in [name, value] {
                s.withUTF8 { bytes in
                    if dialect == .resp {
                        bulk(bytes, into: &out)
                    } else {
                        out.append(0x20)
                        escapeToken(bytes, into: &out)
                    }
                }
            }
        }
        if dialect == .line { out.append(0x0A) }
    }

    /// A two-element array (RESP) or `OK name value` (line).
    public func pair(_ name: String, _ value: String, into out: inout [UInt8]) { fields([(name, value)], into: &out) }

    /// A whole text (INFO, HELP). RESP: one bulk string, lines kept. Line
    /// dialect: the text's lines joined by spaces, so it stays one line, and
    /// `# Section` banners left out.
    public func text(_ text: String, into out: inout [UInt8]) {
        switch dialect {
        case .resp:
            var copy = text
            copy.withUTF8 { bulk($0, into: &out) }
        case .line:
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K")])
            for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {  // "\r\n" is one Character
                out.append(0x20)
                out.append(contentsOf: line.utf8)
            }
            out.append(0x0A)
        }
    }

    /// Items with scores, then a marker pair when some came from the
    /// fallback: `(fallback) m` (the last m items are popular picks) or
    /// `(unknown) m` (the user or item asked about is not in the index).
    /// `tag` adds one more pair at the end, e.g. `(variant) control`.
    public func recommendations(_ result: ResultList, names: ByteInterner, tag: (String, String)? = nil,
                                into out: inout [UInt8]) {
        let marker = result.fallbackCount > 0 || result.unknownSubject
        names.prefetchNames(result.ids)
        switch dialect {
        case .resp:
            out.append(UInt8(ascii: "*"))
            NumberWriter.writeInt(result.count * 2 + (marker ? 2 : 0) + (tag == nil ? 0 : 2), into: &out)
            out.append(contentsOf: [0x0D, 0x0A])
            for x in 0..<result.count {
                names.withName(result.ids[x]) { bulk($0, into: &out) }
                let mark = out.count
                out.append(contentsOf: [UInt8(ascii: "$"), 0, 0x0D, 0x0A])
                let start = out.count
                NumberWriter.writeScore(result.scores[x], into: &out)
                // A score is 1 to 15 bytes; its length is patched in once known
                // (the insert only shifts the few bytes of this score).
                let n = out.count - start
                if n < 10 {
                    out[mark + 1] = UInt8(n) + 0x30
                } else {
                    out.insert(UInt8(n / 10) + 0x30, at: mark + 1)
                    out[mark + 2] = UInt8(n % 10) + 0x30
                }
                out.append(contentsOf: [0x0D, 0x0A])
            }
            if marker {
                let key: StaticString = result.unknownSubject ? "(unknown)" : "(fallback)"
                bulk(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), into: &out)
                out.append(UInt8(ascii: "$"))
                NumberWriter.writeInt(NumberWriter.digitCount(UInt64(result.fallbackCount)), into: &out)
                out.append(contentsOf: [0x0D, 0x0A])
                NumberWriter.writeInt(result.fallbackCount, into: &out)
                out.append(contentsOf: [0x0D, 0x0A])
            }
            if let (key, value) = tag {
                for var s in [key, value] { s.withUTF8 { bulk($0, into: &out) } }
            }
        case .line:
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K")])
            for x in 0..<result.count {
                out.append(0x20)
                names.withName(result.ids[x]) { escapeToken($0, into: &out) }
                out.append(0x20)
                NumberWriter.writeScore(result.scores[x], into: &out)
            }
            if marker {
                out.append(contentsOf: Array((result.unknownSubject ? " (unknown) " : " (fallback) ").utf8))
                NumberWriter.writeInt(result.fallbackCount, into: &out)
            }
            if let (key, value) = tag {
                for var s in [key, value] {
                    out.append(0x20)
                    s.withUTF8 { escapeToken($0, into: &out) }
                }
            }
            out.append(0x0A)
        }
    }

    func escapeToken(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        for b in bytes {
            if b <= 0x20 || b == 0x7F || b == UInt8(ascii: "%") {
                out.append(UInt8(ascii: "%"))
                out.append(ReplyEncoder.hex[Int(b >> 4)])
                out.append(ReplyEncoder.hex[Int(b & 15)])
            } else {
                out.append(b)
            }
        }
    }

    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
}
