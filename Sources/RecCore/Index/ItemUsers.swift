/// The transpose of `UserHistories`: per item, the users who have it, with
/// their affinity.
public struct ItemUsers: Sendable {
    public let offsets: [UInt32]
    public let users: [UInt32]
    public let weights: [Float]

    public var memoryBytes: Int { offsets.capacity * 4 + users.capacity * 4 + weights.capacity * 4 }

    var itemCount: Int { offsets.count - 1 }

    init(histories: UserHistories, itemCount: Int) {
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        for item in histories.items { offsets[Int(item) + 1] += 1 }
        for i in 0..<itemCount { offsets[i + 1] += offsets[i] }
        var cursor = offsets
        var users = [UInt32](repeating: 0, count: histories.entryCount)
        var weights = [Float](repeating: 0, count: histories.entryCount)
        for u in 0..<histories.userCount {
            for h in histories.range(of: UInt32(u)) {
                let i = Int(histories.items[h])
                let at = Int(cursor[i])
                users[at] = UInt32(u)
                weights[at] = histories.weights[h]
                cursor[i] += 1
            }
        }
        self.offsets = offsets
        self.users = users
        self.weights = weights
    }
}
