/// Every interaction of a snapshot, column by column, with users and items
/// interned to dense ids. This is the builder's input, not the served index.
public struct EventTable: Sendable {
    public var users = ByteInterner()
    public var items = ByteInterner()
    public private(set) var user: [UInt32] = []
    public private(set) var item: [UInt32] = []
    public private(set) var type: [EventType] = []
    /// Unix seconds.
    public private(set) var time: [Int64] = []
    public private(set) var quantity: [Float] = []

    public init() {}

    public var count: Int { user.count }

    public mutating func reserve(_ n: Int) {
        user.reserveCapacity(n)
        item.reserveCapacity(n)
        type.reserveCapacity(n)
        time.reserveCapacity(n)
        quantity.reserveCapacity(n)
    }

    public mutating func append(user u: UInt32, item i: UInt32, type t: EventType, time ts: Int64, quantity q: Float = 1) {
        user.append(u)
        item.append(i)
        type.append(t)
        time.append(ts)
        quantity.append(q)
    }

    /// Event indices grouped by item, in file order within an item (a
    /// stable counting sort): item i's events are
    /// `order[start[i] ..< start[i + 1]]`. The histories and the audiences
    /// both walk the events this way; a build groups them once for both.
    struct ByItem: Sendable {
        let start: [Int]
        let order: [UInt32]
    }

    func groupedByItem() -> ByItem {
        let itemCount = items.count, n = count
        var start = [Int](repeating: 0, count: itemCount + 1)
        for e in 0..<n { start[Int(item[e]) + 1] += 1 }
        for i in 0..<itemCount { start[i + 1] += start[i] }
        var order = [UInt32](repeating: 0, count: n)
        var cursor = start
        order.withUnsafeMutableBufferPointer { order in
            cursor.withUnsafeMutableBufferPointer { cursor in
                for e in 0..<n {
                    let i = Int(item[e])
                    order[cursor[i]] = UInt32(e)
                    cursor[i] += 1
                }
            }
        }
        return ByItem(start: start, order: order)
    }

    /// Appends rows given column by column (a parser's batch).
    mutating func append(users: UnsafeBufferPointer<UInt32>, items: UnsafeBufferPointer<UInt32>,
                         types: UnsafeBufferPointer<EventType>, times: UnsafeBufferPointer<Int64>,
                         quantities: UnsafeBufferPointer<Float>) {
        user.append(contentsOf: users)
        item.append(contentsOf: items)
        type.append(contentsOf: types)
        time.append(contentsOf: times)
        quantity.append(contentsOf: quantities)
    }

    /// Appends another table's events, re-interning its names into this
    /// table's (new names get the next ids, in the other table's order).
    public mutating func absorb(_ other: EventTable) {
        let userMap = (0..<other.users.count).map { id in other.users.withName(UInt32(id)) { users.intern($0) } }
        let itemMap = (0..<other.items.count).map { id in other.items.withName(UInt32(id)) { items.intern($0) } }
        reserve(count + other.count)
        for u in other.user { user.append(userMap[Int(u)]) }
        for i in other.item { item.append(itemMap[Int(i)]) }
        type.append(contentsOf: other.type)
        time.append(contentsOf: other.time)
        quantity.append(contentsOf: other.quantity)
    }

    /// Convenience for tests and tools: interns the names, then appends.
    public mutating func append(user u: String, item i: String, type t: EventType, time ts: Int64, quantity q: Float = 1) {
        let uid = users.intern(u)
        let iid = items.intern(i)
        append(user: uid, item: iid, type: t, time: ts, quantity: q)
    }
}

extension EventTable {
    /// This table without each user's events on the items `held[user]`
    /// names (a holdout's training set); ids stay as they are.
    public func withoutHeldOut(_ held: [Set<UInt32>]) -> EventTable {
        var train = EventTable()
        train.users = users
        train.items = items
        train.reserve(count)
        for e in 0..<count where Int(user[e]) >= held.count || !held[Int(user[e])].contains(item[e]) {
            train.append(user: user[e], item: item[e], type: type[e], time: time[e], quantity: quantity[e])
        }
        return train
    }
}
