/// Restock and price-drop audiences: per item, the users who viewed or
/// carted it but never bought it, most recent interest first, as CSR.
public struct Audiences: Sendable {
    public let offsets: [UInt32]
    public let users: [UInt32]
    /// Time of the user's latest view or cart of the item.
    public let times: [Int64]

    public var memoryBytes: Int { offsets.capacity * 4 + users.capacity * 4 + times.capacity * 8 }

    @inline(__always)
    public func range(of item: UInt32) -> Range<Int> {
        guard Int(item) + 1 < offsets.count else { return 0..<0 }
        return Int(offsets[Int(item)])..<Int(offsets[Int(item) + 1])
    }

    public init(events: EventTable) {
        let itemCount = events.items.count, userCount = events.users.count
        // Events grouped by item (counting sort).
        var start = [Int](repeating: 0, count: itemCount + 1)
        for e in 0..<events.count { start[Int(events.item[e]) + 1] += 1 }
        for i in 0..<itemCount { start[i + 1] += start[i] }
        var order = [Int](repeating: 0, count: events.count)
        var cursor = start
        for e in 0..<events.count {
            let i = Int(events.item[e])
            order[cursor[i]] = e
            cursor[i] += 1
        }
        // Per item: stamps say which users bought it / showed interest, and when.
        var bought = [Int](repeating: -1, count: userCount)
        var seen = [Int](repeating: -1, count: userCount)
        var last = [Int64](repeating: 0, count: userCount)
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        var users: [UInt32] = [], times: [Int64] = []
        var row: [(UInt32, Int64)] = []
        for i in 0..<itemCount {
            row.removeAll(keepingCapacity: true)
            for x in start[i]..<start[i + 1] {
                let e = order[x], u = Int(events.user[e])
                if events.type[e] == .purchase {
                    bought[u] = i
                } else if seen[u] != i || events.time[e] > last[u] {
                    seen[u] = i
                    last[u] = events.time[e]
                }
            }
            for x in start[i]..<start[i + 1] {
                let u = Int(events.user[order[x]])
                if seen[u] == i && bought[u] != i {
                    row.append((UInt32(u), last[u]))
                    seen[u] = -2  // emitted once
                }
            }
            row.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            for (u, t) in row {
                users.append(u)
                times.append(t)
            }
            offsets[i + 1] = UInt32(users.count)
        }
        self.offsets = offsets
        self.users = users
        self.times = times
    }
}
