import CEpoll

/// Maps external ids (user ids, stock codes: arbitrary byte strings) to dense
/// `UInt32` ids in order of first appearance, and back.
///
/// Names live in one byte arena and the table is open addressing, so
/// interning half a million rows makes no `String`s, and a lookup from a
/// request buffer allocates nothing. Each slot holds the id, the name's
/// length and its first 12 bytes: a name of up to 12 bytes (most ids are
/// numbers or SKUs) is found with one cache miss, not three in series (slot,
/// offset, bytes: they were nearly half of a 10M-event build's samples), and
/// probing past another name rarely touches the arena.
public struct ByteInterner: Sendable {
    /// All names back to back; name `i` is `arena[offsets[i] ..< offsets[i + 1]]`.
    @usableFromInline var arena: [UInt8] = []
    @usableFromInline var offsets: [UInt32] = [0]
    @usableFromInline var slots: [Slot]
    @usableFromInline var mask: Int

    /// `tag` is 0 for an empty slot, else the name's length (15 for 15 or
    /// more) in the top 4 bits above `id + 1`; `prefix` is the name's first
    /// 12 bytes, zero-padded.
    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var tag: UInt32
        @usableFromInline var prefix: Prefix

        @usableFromInline
        init(tag: UInt32, prefix: Prefix) {
            self.tag = tag
            self.prefix = prefix
        }
    }

    @usableFromInline
    struct Prefix: Sendable, Equatable {
        @usableFromInline var a: UInt32, b: UInt32, c: UInt32

        @usableFromInline
        init(a: UInt32, b: UInt32, c: UInt32) {
            self.a = a
            self.b = b
            self.c = c
        }

        /// The first 12 bytes of `key`, zero-padded.
        @inlinable @inline(__always)
        init(_ key: UnsafeBufferPointer<UInt8>) {
            guard let base = key.baseAddress else { self.init(a: 0, b: 0, c: 0); return }
            if key.count >= 12 {
                let raw = UnsafeRawPointer(base)
                self.init(a: raw.loadUnaligned(as: UInt32.self), b: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                          c: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                return
            }
            // Byte by byte (a short name is a few bytes; a copy was a memcpy call).
            var low: UInt64 = 0, high: UInt32 = 0
            for x in 0..<min(key.count, 8) { low |= UInt64(base[x]) << (8 * x) }
            for x in min(key.count, 8)..<key.count { high |= UInt32(base[x]) << (8 * (x - 8)) }
            self.init(a: UInt32(truncatingIfNeeded: low), b: UInt32(truncatingIfNeeded: low >> 32), c: high)
        }
    }

    /// Ids fit below the length bits.
    public static let maxCount = (1 << 28) - 2

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(tag: 0, prefix: Prefix(a: 0, b: 0, c: 0)), count: size)
        mask = size - 1
    }

    /// Number of distinct names.
    public var count: Int { offsets.count - 1 }

    /// Bytes held by the arena, offsets and table.
    public var memoryBytes: Int { arena.capacity + offsets.capacity * 4 + slots.capacity * MemoryLayout<Slot>.stride }

    /// A name of up to 12 bytes is hashed from its prefix words (they are
    /// built anyway), a longer one byte by byte (FNV-1a); both end in a mix
    /// so short numeric ids spread over the table.
    @inlinable @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>, _ prefix: Prefix) -> Int {
        var h: UInt64
        if key.count <= 12 {
            h = (UInt64(prefix.a) | UInt64(prefix.b) << 32) &* 0x9E37_79B9_7F4A_7C15
            h ^= (UInt64(prefix.c) | UInt64(key.count) << 32) &* 0xC2B2_AE3D_27D4_EB4F
        } else {
            h = 0xcbf2_9ce4_8422_2325
            for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    @inlinable @inline(__always)
    static func lengthTag(_ count: Int) -> UInt32 { UInt32(min(count, 15)) << 28 }

    /// The id of `key`, or nil when it was never interned.
    /// - Complexity: O(key length), expected; no allocation.
    @inlinable
    public func lookup(_ key: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let length = ByteInterner.lengthTag(key.count)
        let prefix = Prefix(key)
        var i = ByteInterner.hash(key, prefix) & mask
        return slots.withUnsafeBufferPointer { table in
            while true {
                let slot = table[i]
                if slot.tag == 0 { return nil }
                if slot.tag & 0xF000_0000 == length && slot.prefix == prefix {
                    // Equal length and first 12 bytes: the same name, unless it is longer.
                    let id = Int(slot.tag & 0x0FFF_FFFF) - 1
                    if key.count <= 12 || sameTail(id, key) { return UInt32(id) }
                }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Whether name `id`, whose first 12 bytes match `key`'s, is `key`.
    @inlinable
    func sameTail(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        offsets.withUnsafeBufferPointer { offs in
            arena.withUnsafeBufferPointer { names in
                let start = Int(offs[id]), end = Int(offs[id + 1])
                return end - start == key.count
                    && memcmpBytes(names.baseAddress! + start + 12, key.baseAddress! + 12, key.count - 12)
            }
        }
    }

    /// The id of `key`, assigning the next id if it is new.
    /// - Complexity: amortised O(key length).
    @discardableResult
    public mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if let id = lookup(key) { return id }
        if count >= ByteInterner.maxCount { fatalError("more than \(ByteInterner.maxCount) distinct names") }
        let id = UInt32(count)
        arena.append(contentsOf: key)
        offsets.append(UInt32(arena.count))
        if count * 2 > slots.count { grow() } else { insertSlot(id: id, key: key) }
        return id
    }

    @discardableResult
    public mutating func intern(_ key: String) -> UInt32 {
        var key = key
        return key.withUTF8 { intern($0) }
    }

    public func lookup(_ key: String) -> UInt32? {
        var key = key
        return key.withUTF8 { lookup($0) }
    }

    mutating func insertSlot(id: UInt32, key: UnsafeBufferPointer<UInt8>) {
        let prefix = Prefix(key)
        var i = ByteInterner.hash(key, prefix) & mask
        while slots[i].tag != 0 { i = (i &+ 1) & mask }
        slots[i] = Slot(tag: ByteInterner.lengthTag(key.count) | (id + 1), prefix: prefix)
    }

    mutating func grow() {
        let size = slots.count * 2
        slots = [Slot](repeating: Slot(tag: 0, prefix: Prefix(a: 0, b: 0, c: 0)), count: size)
        mask = size - 1
        let names = arena, bounds = offsets
        names.withUnsafeBufferPointer { names in
            for id in 0..<count {
                let start = Int(bounds[id]), end = Int(bounds[id + 1])
                insertSlot(id: UInt32(id), key: UnsafeBufferPointer(rebasing: names[start..<end]))
            }
        }
    }

    /// Calls `body` with the bytes of name `id` without copying them.
    @inlinable
    public func withName<R>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = Int(offsets[Int(id)]), end = Int(offsets[Int(id) + 1])
        return try arena.withUnsafeBufferPointer { try body($0.slice(start, end)) }
    }

    /// Starts the cache misses of these names together: a reply's ids are
    /// random items of a large catalogue, and writing their names one after
    /// another took two misses each, in series (offset, then bytes).
    public func prefetchNames(_ ids: [UInt32]) {
        offsets.withUnsafeBufferPointer { offs in
            for id in ids where Int(id) < count { crecd_prefetch(offs.baseAddress! + Int(id)) }
            arena.withUnsafeBufferPointer { names in
                guard let base = names.baseAddress else { return }
                for id in ids where Int(id) < count { crecd_prefetch(base + Int(offs[Int(id)])) }
            }
        }
    }

    /// The name of `id` as a `String` (for logs, tests and tools, not hot paths).
    public func name(_ id: UInt32) -> String {
        withName(id) { String(decoding: $0, as: UTF8.self) }
    }
}

@inlinable @inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
            != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
