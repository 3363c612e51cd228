import RecCore

/// Encodes replies into a connection's output bytes, in its dialect.
///
/// RESP: `+OK`, `-ERR CODE message`, `$n` bulks, `*n` arrays, as Redis;
/// after `HELLO 3` the RESP3 types where Redis uses them (`%` maps, `,`
/// doubles, `_` nulls, `=` verbatim text).
/// Line: exactly one `\n`-terminated line per reply; lists are
/// `OK item score item score ...`, errors `ERR CODE message`, and bytes of
/// ids that would break the line (space, control, `%`) are written `%XX`.
public struct ReplyEncoder: Sendable {
    public let dialect: Dialect
    /// The connection chose RESP3 with `HELLO 3`.
    public let resp3: Bool

    public init(dialect: Dialect, resp3: Bool = false) {
        self.dialect = dialect
        self.resp3 = resp3 && dialect == .resp
    }

    @inline(__always)
    func crlf(_ out: inout [UInt8]) {
        if dialect == .resp { out.append(0x0D) }
        out.append(0x0A)
    }

    /// `+TEXT`; on a line `OK` and `PONG` as they are, any other word after
    /// `OK ` (`OK RESET`), so every line reply starts with OK, PONG or ERR.
    public func status(_ text: StaticString, into out: inout [UInt8]) {
        let bytes = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        if dialect == .resp {
            out.append(UInt8(ascii: "+"))
        } else if !bytes.elementsEqual("OK".utf8) && !bytes.elementsEqual("PONG".utf8) {
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K"), 0x20])
        }
        out.append(contentsOf: bytes)
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

    /// Named fields: RESP2 `[name, value, name, value, ...]`, RESP3 a map,
    /// line `OK name value ...`.
    public func fields(_ pairs: [(String, String)], into out: inout [UInt8]) {
        if dialect == .resp {
            out.append(UInt8(ascii: resp3 ? "%" : "*"))
            NumberWriter.writeInt(resp3 ? pairs.count : pairs.count * 2, into: &out)
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
        case .resp where resp3:
            // Verbatim string: `=<n>\r\ntxt:<text>\r\n`, as Redis's INFO under RESP3.
            out.append(UInt8(ascii: "="))
            NumberWriter.writeInt(text.utf8.count + 4, into: &out)
            out.append(contentsOf: Array("\r\ntxt:".utf8))
            out.append(contentsOf: text.utf8)
            out.append(contentsOf: [0x0D, 0x0A])
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

    /// Items with scores and nothing else, shaped like `ZRANGE ...
    /// WITHSCORES`: RESP2 `[item, score, item, score, ...]`, RESP3
    /// `[[item, score], ...]` with double scores, line `OK item score ...`.
    ///
    /// With `meta` (the request said `WITHMETA`), where the answer came from
    /// follows: RESP a two-element array `[items, meta]` where meta is
    /// `fallback` (how many of the last items are popular picks), `unknown`
    /// (1 when the user or item asked about is not in the index) and, when
    /// an experiment served it, `variant` (a map under RESP3, a flat array
    /// under RESP2); line `OK item score ... (fallback) m (unknown) 0|1 [(variant) name]`.
    public func recommendations(_ result: ResultList, names: ByteInterner, tag: (String, String)? = nil,
                                meta: Bool = false, into out: inout [UInt8]) {
        names.prefetchNames(result.ids)
        switch dialect {
        case .resp:
            if meta { out.append(contentsOf: [UInt8(ascii: "*"), UInt8(ascii: "2"), 0x0D, 0x0A]) }
            out.append(UInt8(ascii: "*"))
            NumberWriter.writeInt(resp3 ? result.count : result.count * 2, into: &out)
            out.append(contentsOf: [0x0D, 0x0A])
            for x in 0..<result.count {
                if resp3 { out.append(contentsOf: [UInt8(ascii: "*"), UInt8(ascii: "2"), 0x0D, 0x0A]) }
                names.withName(result.ids[x]) { bulk($0, into: &out) }
                if resp3 {
                    out.append(UInt8(ascii: ","))
                    NumberWriter.writeScore(result.scores[x], into: &out)
                    out.append(contentsOf: [0x0D, 0x0A])
                    continue
                }
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
            if meta {
                var fields: [(String, Reply)] = [("fallback", .integer(result.fallbackCount)),
                                                 ("unknown", .integer(result.unknownSubject ? 1 : 0))]
                if let (_, value) = tag { fields.append(("variant", .bulk(Array(value.utf8)))) }
                write(.map(fields.map { (.bulk(Array($0.0.utf8)), $0.1) }), into: &out)
            }
        case .line:
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K")])
            for x in 0..<result.count {
                out.append(0x20)
                names.withName(result.ids[x]) { escapeToken($0, into: &out) }
                out.append(0x20)
                NumberWriter.writeScore(result.scores[x], into: &out)
            }
            if meta {
                out.append(contentsOf: Array(" (fallback) ".utf8))
                NumberWriter.writeInt(result.fallbackCount, into: &out)
                out.append(contentsOf: Array(" (unknown) ".utf8))
                out.append(result.unknownSubject ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                if let (key, value) = tag {
                    for var s in [key, value] {
                        out.append(0x20)
                        s.withUTF8 { escapeToken($0, into: &out) }
                    }
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
