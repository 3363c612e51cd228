import CEpoll

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
        self.init(events: events, byItem: events.groupedByItem())
    }

    init(events: EventTable, byItem: EventTable.ByItem) {
        let itemCount = events.items.count, userCount = events.users.count, n = events.count
        let start = byItem.start, order = byItem.order
        // Per item: stamps say which users bought it / showed interest, and when.
        var bought = [Int32](repeating: -1, count: userCount)
        var seen = [Int32](repeating: -1, count: userCount)
        var last = [Int64](repeating: 0, count: userCount)
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        var users: [UInt32] = [], times: [Int64] = []
        var row: [(UInt32, Int64)] = []
        // On buffers, and the columns prefetched a few events ahead: events
        // in item order are random places in them (at 10M events this was
        // the longest part of the build's side work, and on its critical path).
        let ahead = 12
        events.user.withUnsafeBufferPointer { user in
        events.type.withUnsafeBufferPointer { type in
        events.time.withUnsafeBufferPointer { time in
        order.withUnsafeBufferPointer { order in
        bought.withUnsafeMutableBufferPointer { bought in
        seen.withUnsafeMutableBufferPointer { seen in
        last.withUnsafeMutableBufferPointer { last in
            for i in 0..<itemCount {
                let stamp = Int32(truncatingIfNeeded: i)
                row.removeAll(keepingCapacity: true)
                for x in start[i]..<start[i + 1] {
                    if x + ahead < n {
                        let f = Int(order[x + ahead])
                        crecd_prefetch(user.baseAddress! + f)
                        crecd_prefetch(type.baseAddress! + f)
                        crecd_prefetch(time.baseAddress! + f)
                    }
                    let e = Int(order[x]), u = Int(user[e])
                    if type[e] == .purchase {
                        bought[u] = stamp
                    } else if seen[u] != stamp || time[e] > last[u] {
                        seen[u] = stamp
                        last[u] = time[e]
                    }
                }
                for x in start[i]..<start[i + 1] {
                    let u = Int(user[Int(order[x])])
                    if seen[u] == stamp && bought[u] != stamp {
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
        }}}}}}}
        self.offsets = offsets
        self.users = users
        self.times = times
    }
}
