/// Time-decayed popularity: per item the sum of its events' weights (type x
/// decay), and ranked lists, overall and per category, for `POPULAR` and for
/// topping up personal answers.
public struct Popularity: Sendable {
    /// Score per item; 0 for items that have no events.
    public let score: [Float]
    /// Items with a positive score, best first (ties: lower id).
    public let ranked: [UInt32]
    /// CSR over categories: category `c`'s ranked items are
    /// `categoryItems[categoryOffsets[c] ..< categoryOffsets[c + 1]]`.
    public let categoryOffsets: [UInt32]
    public let categoryItems: [UInt32]

    public init(score: [Float], catalog: Catalog) {
        self.score = score
        var ranked = (0..<UInt32(score.count)).filter { score[Int($0)] > 0 }
        ranked.sort { a, b in score[Int(a)] != score[Int(b)] ? score[Int(a)] > score[Int(b)] : a < b }
        self.ranked = ranked
        let categoryCount = catalog.categories.count
        var offsets = [UInt32](repeating: 0, count: categoryCount + 1)
        for i in ranked {
            let c = catalog.category[Int(i)]
            if c != Catalog.noCategory { offsets[Int(c) + 1] += 1 }
        }
        for c in 0..<categoryCount { offsets[c + 1] += offsets[c] }
        var cursor = offsets
        var items = [UInt32](repeating: 0, count: Int(offsets[categoryCount]))
        for i in ranked {
            let c = catalog.category[Int(i)]
            if c != Catalog.noCategory {
                items[Int(cursor[Int(c)])] = i
                cursor[Int(c)] += 1
            }
        }
        categoryOffsets = offsets
        categoryItems = items
    }

    public var memoryBytes: Int { score.capacity * 4 + ranked.capacity * 4 + categoryOffsets.capacity * 4 + categoryItems.capacity * 4 }
}
