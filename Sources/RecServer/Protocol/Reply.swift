/// A reply built as a tree, for the replies that are rare and nested
/// (HELLO, COMMAND DOCS, CLIENT LIST, CONFIG GET, EXEC's aborts): each
/// protocol's shapes are decided in one place, `ReplyEncoder.write`. The
/// hot replies (recommendations, bulks, statuses) are written directly.
indirect enum Reply {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case double(Double)
    /// RESP3 `_`; RESP2 `$-1`.
    case null
    case array([Reply])
    /// RESP3 `%`; RESP2 a flat array of keys and values.
    case map([(Reply, Reply)])
    /// RESP3 `~`; RESP2 an array.
    case set([Reply])
    /// RESP3 `=` with `txt:`; RESP2 a bulk string.
    case verbatim(String)

    static func text(_ s: String) -> Reply { .bulk(Array(s.utf8)) }

    /// A map with text keys.
    static func fields(_ pairs: [(String, Reply)]) -> Reply { .map(pairs.map { (.text($0.0), $0.1) }) }
}

extension ReplyEncoder {
    public func integer(_ n: Int, into out: inout [UInt8]) { write(.integer(n), into: &out) }

    public func null(into out: inout [UInt8]) { write(.null, into: &out) }

    func write(_ reply: Reply, into out: inout [UInt8]) {
        guard dialect == .resp else {
            // One line: `OK` and the tree's leaves, escaped as tokens.
            if case .error(let message) = reply {
                out.append(contentsOf: Array("ERR ".utf8))
                for b in message.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
                out.append(0x0A)
                return
            }
            out.append(contentsOf: [UInt8(ascii: "O"), UInt8(ascii: "K")])
            appendLeaves(reply, into: &out)
            out.append(0x0A)
            return
        }
        func header(_ marker: UInt8, _ n: Int) {
            out.append(marker)
            NumberWriter.writeInt(n, into: &out)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        switch reply {
        case .simple(let s):
            out.append(UInt8(ascii: "+"))
            for b in s.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
            out.append(contentsOf: [0x0D, 0x0A])
        case .error(let s):
            out.append(UInt8(ascii: "-"))
            for b in s.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
            out.append(contentsOf: [0x0D, 0x0A])
        case .integer(let n):
            header(UInt8(ascii: ":"), n)
        case .bulk(let b):
            b.withUnsafeBufferPointer { bulk($0, into: &out) }
        case .double(let d):
            let text = d.isNaN ? "nan" : d.isInfinite ? (d > 0 ? "inf" : "-inf")
                : d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
            if resp3 {
                out.append(UInt8(ascii: ","))
                out.append(contentsOf: text.utf8)
                out.append(contentsOf: [0x0D, 0x0A])
            } else {
                write(.text(text), into: &out)
            }
        case .null:
            out.append(contentsOf: resp3 ? Array("_\r\n".utf8) : Array("$-1\r\n".utf8))
        case .array(let items):
            header(UInt8(ascii: "*"), items.count)
            for i in items { write(i, into: &out) }
        case .set(let items):
            header(UInt8(ascii: resp3 ? "~" : "*"), items.count)
            for i in items { write(i, into: &out) }
        case .map(let pairs):
            header(UInt8(ascii: resp3 ? "%" : "*"), resp3 ? pairs.count : pairs.count * 2)
            for (k, v) in pairs {
                write(k, into: &out)
                write(v, into: &out)
            }
        case .verbatim(let s):
            text(s, into: &out)
        }
    }

    private func appendLeaves(_ reply: Reply, into out: inout [UInt8]) {
        func token(_ bytes: [UInt8]) {
            out.append(0x20)
            bytes.withUnsafeBufferPointer { escapeToken($0, into: &out) }
        }
        switch reply {
        case .simple(let s), .error(let s), .verbatim(let s): token(Array(s.utf8))
        case .integer(let n): token(Array(String(n).utf8))
        case .bulk(let b): token(b)
        case .double(let d): token(Array(String(d).utf8))
        case .null: token(Array("(nil)".utf8))
        case .array(let items), .set(let items): for i in items { appendLeaves(i, into: &out) }
        case .map(let pairs):
            for (k, v) in pairs {
                appendLeaves(k, into: &out)
                appendLeaves(v, into: &out)
            }
        }
    }
}
