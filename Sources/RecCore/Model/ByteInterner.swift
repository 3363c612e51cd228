import CEpoll

/// Maps external ids (user ids, stock codes: arbitrary byte strings) to dense
/// `UInt32` ids in order of first appearance, and back.
///
/// Names live in one byte arena and the table is open addressing over `UInt32`
/// slots, so interning half a million rows makes no `String`s, and a lookup
/// from a request buffer allocates nothing.
public struct ByteInterner: Sendable {
    /// All names back to back; name `i` is `arena[offsets[i] ..< offsets[i + 1]]`.
    @usableFromInline var arena: [UInt8] = []
    @usableFromInline var offsets: [UInt32] = [0]
    /// Slot value is `id + 1`; 0 marks an empty slot.
    @usableFromInline var slots: [UInt32]
    @usableFromInline var mask: Int

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Number of distinct names.
    public var count: Int { offsets.count - 1 }

    /// Bytes held by the arena, offsets and table.
    public var memoryBytes: Int { arena.capacity + offsets.capacity * 4 + slots.capacity * 4 }

    @inlinable @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        // FNV-1a, then a final mix so short numeric ids spread over the table.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// The id of `key`, or nil when it was never interned.
    /// - Complexity: O(key length), expected; no allocation.
    @inlinable
    public func lookup(_ key: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var i = ByteInterner.hash(key) & mask
        return slots.withUnsafeBufferPointer { table in
            arena.withUnsafeBufferPointer { names in
                offsets.withUnsafeBufferPointer { offs in
                    while true {
                        let slot = table[i]
                        if slot == 0 { return nil }
                        let id = Int(slot &- 1)
                        let start = Int(offs[id]), end = Int(offs[id + 1])
                        if end - start == key.count,
                           key.count == 0 || memcmpBytes(names.baseAddress! + start, key.baseAddress!, key.count) {
                            return UInt32(id)
                        }
                        i = (i &+ 1) & mask
                    }
                }
            }
        }
    }

    /// The id of `key`, assigning the next id if it is new.
    /// - Complexity: amortised O(key length).
    @discardableResult
    public mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if let id = lookup(key) { return id }
        let id = UInt32(count)
        arena.append(contentsOf: key)
        offsets.append(UInt32(arena.count))
        if count * 2 > slots.count { grow() } else { insertSlot(id: id, hash: ByteInterner.hash(key)) }
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

    mutating func insertSlot(id: UInt32, hash: Int) {
        var i = hash & mask
        while slots[i] != 0 { i = (i &+ 1) & mask }
        slots[i] = id + 1
    }

    mutating func grow() {
        let size = slots.count * 2
        slots = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for id in 0..<count {
            let h = withName(UInt32(id)) { ByteInterner.hash($0) }
            insertSlot(id: UInt32(id), hash: h)
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
