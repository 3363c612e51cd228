#if canImport(Glibc)
import Glibc
#endif

/// Text fields of snapshot files are escaped as PostgreSQL's COPY text
/// format does: `\t`, `\n`, `\r` and `\\` stand for tab, line feed,
/// carriage return and backslash, so an id or a category holding any byte
/// at all can be saved and read back without breaking its row. A backslash
/// before any other byte is kept as it is, so exports written by other
/// tools (which rarely hold backslashes) read as they always did.
public enum TSVEscape {
    /// Appends `field` to `out`, escaped.
    public static func append<C: Collection<UInt8>>(_ field: C, to out: inout [UInt8]) {
        for b in field {
            switch b {
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x5C: out.append(0x5C); out.append(0x5C)
            default: out.append(b)
            }
        }
    }

    /// Whether `bytes` holds a backslash at all (memchr: a whole part of a
    /// file is checked at memory speed, so rows without escapes pay nothing).
    public static func mayHoldEscapes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        return memchr(base, 0x5C, bytes.count) != nil
    }

    /// Calls `body` with `field` unescaped: the field itself when it holds
    /// no backslash (no copy), else the unescaped bytes in `scratch`.
    @inline(__always)
    public static func withUnescaped<R>(_ field: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8],
                                        _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard field.contains(0x5C) else { return body(field) }
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        while i < field.count {
            let b = field[i]
            if b == 0x5C, i + 1 < field.count {
                switch field[i + 1] {
                case UInt8(ascii: "t"): scratch.append(0x09); i += 2; continue
                case UInt8(ascii: "n"): scratch.append(0x0A); i += 2; continue
                case UInt8(ascii: "r"): scratch.append(0x0D); i += 2; continue
                case 0x5C: scratch.append(0x5C); i += 2; continue
                default: break
                }
            }
            scratch.append(b)
            i += 1
        }
        return scratch.withUnsafeBufferPointer(body)
    }
}
