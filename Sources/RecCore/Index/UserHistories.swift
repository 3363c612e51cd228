import CEpoll
import Foundation

/// Each user's distinct items with an affinity weight: the sum over that
/// user's events of (event-type weight x time decay), as in SAR. Decay is
/// measured back from the user's own newest event, not the snapshot's: a
/// weight then never underflows to 0 for want of recent events elsewhere
/// (one event stamped today would otherwise erase a 2011 snapshot's every
/// weight at a 30-day half-life), and one user's new event leaves every
/// other user's affinities as they were.
/// Stored as CSR: user `u` owns `items[offsets[u] ..< offsets[u + 1]]`,
/// sorted by item id.
public struct UserHistories: Sendable {
    public private(set) var offsets: [UInt32]
    public private(set) var items: [UInt32]
    public private(set) var weights: [Float]
    /// Latest event time per entry (Unix seconds).
    public private(set) var lastSeen: [Int64]

    public var userCount: Int { offsets.count - 1 }
    public var entryCount: Int { items.count }

    @inline(__always)
    public func range(of user: UInt32) -> Range<Int> {
        Int(offsets[Int(user)])..<Int(offsets[Int(user) + 1])
    }

    public var memoryBytes: Int { offsets.capacity * 4 + items.capacity * 4 + weights.capacity * 4 + lastSeen.capacity * 8 }

    /// Decay factor for an event `age` seconds old.
    @inline(__always)
    static func decay(age: Int64, halfLifeSeconds: Double) -> Float {
        halfLifeSeconds > 0 ? Float(exp2(-Double(max(0, age)) / halfLifeSeconds)) : 1
    }

    /// Decay factors remembered by age. `exp2` per event was about a fifth
    /// of the histories pass, while events come in runs sharing one time (an
    /// order's lines) and a user has few distinct times; a small
    /// direct-mapped cache returns the very same values for most of them.
    struct AgeDecayCache {
        private var ages = [Int64](repeating: -1, count: 256)  // -1: empty (ages are >= 0)
        private var values = [Float](repeating: 0, count: 256)
        let halfLifeSeconds: Double

        init(halfLifeSeconds: Double) { self.halfLifeSeconds = halfLifeSeconds }

        @inline(__always)
        mutating func decay(age: Int64) -> Float {
            let slot = Int((UInt64(bitPattern: age) &* 0x9E37_79B9_7F4A_7C15) >> 56)
            if ages[slot] == age { return values[slot] }
            let d = UserHistories.decay(age: age, halfLifeSeconds: halfLifeSeconds)
            ages[slot] = age
            values[slot] = d
            return d
        }
    }

    /// Groups events by user, then item, with two stable counting sorts
    /// (O(events + users + items), no per-user allocation), merges repeats,
    /// and keeps only the `maxHistory` most recent items of long histories.
    /// The same ordered pass collects the purchase runs `Repurchase` needs.
    public init(events: EventTable, config: BuildConfig) {
        var purchases = Repurchase.Builder(userCount: events.users.count, itemCount: events.items.count)
        self.init(events: events, byItem: events.groupedByItem(), config: config,
                  purchases: &purchases)
    }

    init(events: EventTable, byItem grouped: EventTable.ByItem, config: BuildConfig,
         purchases: inout Repurchase.Builder) {
        let userCount = events.users.count, n = events.count
        var decay = AgeDecayCache(halfLifeSeconds: config.halfLifeDays * 86_400)
        let ahead = 12
        // Pass 1: event indices by item (given), then stably by user.
        let byItem = grouped.order
        var ordered = [UInt32](repeating: 0, count: n)
        var userStart = [Int](repeating: 0, count: userCount + 1)
        for e in 0..<n { userStart[Int(events.user[e]) + 1] += 1 }
        for u in 0..<userCount { userStart[u + 1] += userStart[u] }
        var cursor = userStart
        // On buffers: the arrays' uniqueness checks were a tenth of the pass.
        events.user.withUnsafeBufferPointer { user in
        byItem.withUnsafeBufferPointer { byItem in
        ordered.withUnsafeMutableBufferPointer { ordered in
        cursor.withUnsafeMutableBufferPointer { cursor in
            for x in 0..<n {
                // Event indices in item order are random places in the
                // columns: start the reads a few events ahead (the loads
                // missed otherwise; likewise in pass 2).
                if x + ahead < n { crecd_prefetch(user.baseAddress! + Int(byItem[x + ahead])) }
                let e = byItem[x]
                let u = Int(user[Int(e)])
                ordered[cursor[u]] = e
                cursor[u] += 1
            }
        }}}}
        // Pass 2: merge repeats of (user, item), then cap each history.
        var offsets = [UInt32](repeating: 0, count: userCount + 1)
        var items: [UInt32] = [], weights: [Float] = [], lastSeen: [Int64] = []
        items.reserveCapacity(n / 2)
        weights.reserveCapacity(n / 2)
        lastSeen.reserveCapacity(n / 2)
        var spill: [(item: UInt32, weight: Float, last: Int64)] = []
        for u in 0..<userCount {
            let begin = items.count
            var k = userStart[u]
            let end = userStart[u + 1]
            var newest = Int64.min
            events.time.withUnsafeBufferPointer { time in
                for x in k..<end { newest = max(newest, time[Int(ordered[x])]) }
            }
            while k < end {
                if k + ahead < n {
                    let f = Int(ordered[k + ahead])
                    events.item.withUnsafeBufferPointer { crecd_prefetch($0.baseAddress! + f) }
                    events.time.withUnsafeBufferPointer { crecd_prefetch($0.baseAddress! + f) }
                    events.type.withUnsafeBufferPointer { crecd_prefetch($0.baseAddress! + f) }
                }
                let e = Int(ordered[k])
                let item = events.item[e]
                let w = config.weights[events.type[e]] * decay.decay(age: newest.saturatingMinus(events.time[e]))
                if items.count > begin, items[items.count - 1] == item {
                    weights[weights.count - 1] += w
                    lastSeen[lastSeen.count - 1] = max(lastSeen[lastSeen.count - 1], events.time[e])
                } else {
                    if items.count > begin { purchases.endRun(user: u, item: items[items.count - 1]) }
                    items.append(item)
                    weights.append(w)
                    lastSeen.append(events.time[e])
                }
                if events.type[e] == .purchase { purchases.times.append(events.time[e]) }
                k += 1
            }
            if items.count > begin { purchases.endRun(user: u, item: items[items.count - 1]) }
            let length = items.count - begin
            if length > config.maxHistory {
                spill.removeAll(keepingCapacity: true)
                for x in begin..<items.count { spill.append((items[x], weights[x], lastSeen[x])) }
                // Most recent first; ties by heavier weight, then lower id.
                spill.sort { a, b in
                    a.last != b.last ? a.last > b.last : (a.weight != b.weight ? a.weight > b.weight : a.item < b.item)
                }
                spill.removeLast(length - config.maxHistory)
                spill.sort { $0.item < $1.item }
                items.removeLast(length)
                weights.removeLast(length)
                lastSeen.removeLast(length)
                for s in spill {
                    items.append(s.item)
                    weights.append(s.weight)
                    lastSeen.append(s.last)
                }
            }
            offsets[u + 1] = UInt32(items.count)
        }
        self.offsets = offsets
        self.items = items
        self.weights = weights
        self.lastSeen = lastSeen
    }
}
