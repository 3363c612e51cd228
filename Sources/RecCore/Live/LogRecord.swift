/// One entry of the event log. Binary, little-endian, length-prefixed
/// strings; the framing (length and CRC) is the log's business.
public enum LogRecord: Sendable, Equatable {
    case event(user: [UInt8], LiveEvent)
    case item(ItemPatch)
    case forget(user: [UInt8])
    /// Identity stitching: `from` (a visitor) is `to` (a member) from now on.
    case alias(from: [UInt8], to: [UInt8])

    enum Tag: UInt8 {
        case event = 1, item = 2, forget = 3, alias = 4
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .event(let user, let e):
            out.append(Tag.event.rawValue)
            Self.put(user, &out)
            Self.put(e.item, &out)
            out.append(e.type.rawValue)
            Self.put(UInt64(bitPattern: e.time), &out)
            Self.put(UInt64(e.quantity.bitPattern), &out)
        case .item(let p):
            out.append(Tag.item.rawValue)
            Self.put(p.item, &out)
            var present: UInt8 = 0
            if p.inStock != nil { present |= 1 }
            if p.category != nil { present |= 2 }
            if p.price != nil { present |= 4 }
            if p.title != nil { present |= 8 }
            out.append(present)
            if let v = p.inStock { out.append(v ? 1 : 0) }
            if let v = p.category { Self.put(v, &out) }
            if let v = p.price { Self.put(UInt64(v.bitPattern), &out) }
            if let v = p.title { Self.put(v, &out) }
        case .forget(let user):
            out.append(Tag.forget.rawValue)
            Self.put(user, &out)
        case .alias(let from, let to):
            out.append(Tag.alias.rawValue)
            Self.put(from, &out)
            Self.put(to, &out)
        }
    }

    /// Nil when the payload is not a well-formed record (the CRC matched, so
    /// this means a log from a newer version or a bug, reported by the caller).
    public static func decode(_ b: UnsafeRawBufferPointer) -> LogRecord? {
        var r = Reader(bytes: b)
        guard let tag = r.byte().flatMap(Tag.init(rawValue:)) else { return nil }
        let record: LogRecord?
        switch tag {
        case .event:
            guard let user = r.string(), let item = r.string(), let t = r.byte().flatMap(EventType.init(rawValue:)),
                  let time = r.u64(), let q = r.u64() else { return nil }
            record = .event(user: user, LiveEvent(item: item, type: t, time: Int64(bitPattern: time),
                                                  quantity: Float(bitPattern: UInt32(truncatingIfNeeded: q))))
        case .item:
            guard let item = r.string(), let present = r.byte() else { return nil }
            var p = ItemPatch(item: item)
            if present & 1 != 0 { guard let v = r.byte() else { return nil }; p.inStock = v != 0 }
            if present & 2 != 0 { guard let v = r.string() else { return nil }; p.category = v }
            if present & 4 != 0 { guard let v = r.u64() else { return nil }; p.price = Float(bitPattern: UInt32(truncatingIfNeeded: v)) }
            if present & 8 != 0 { guard let v = r.string() else { return nil }; p.title = v }
            record = .item(p)
        case .forget:
            guard let user = r.string() else { return nil }
            record = .forget(user: user)
        case .alias:
            guard let from = r.string(), let to = r.string() else { return nil }
            record = .alias(from: from, to: to)
        }
        return r.atEnd ? record : nil
    }

    static func put(_ s: [UInt8], _ out: inout [UInt8]) {
        put32(UInt32(s.count), &out)
        out.append(contentsOf: s)
    }

    static func put(_ v: UInt64, _ out: inout [UInt8]) {
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
    }

    static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var atEnd: Bool { at == bytes.count }

        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func u32() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[at + k]) << (8 * k) }
            at += 4
            return v
        }

        mutating func u64() -> UInt64? {
            guard at + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * k) }
            at += 8
            return v
        }

        mutating func string() -> [UInt8]? {
            guard let n = u32(), at + Int(n) <= bytes.count else { return nil }
            defer { at += Int(n) }
            return Array(bytes[at..<(at + Int(n))])
        }
    }
}
