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

    init(score: [Float], ranked: [UInt32], categoryOffsets: [UInt32], categoryItems: [UInt32]) {
        self.score = score
        self.ranked = ranked
        self.categoryOffsets = categoryOffsets
        self.categoryItems = categoryItems
    }

    /// This popularity with `item`'s score raised by `weight`, re-ranked in
    /// place of a full rebuild: O(items) copies and one binary search, cheap
    /// enough to run for every live event on an item the build did not see.
    /// `category` is the item's category (or `Catalog.noCategory`).
    public func boosting(_ item: UInt32, by weight: Float, category: UInt32) -> Popularity {
        var score = self.score
        if Int(item) >= score.count { score.append(contentsOf: repeatElement(0, count: Int(item) + 1 - score.count)) }
        let old = score[Int(item)]
        score[Int(item)] = old + weight
        let new = score[Int(item)]
        guard new > 0 else { return Popularity(score: score, ranked: ranked, categoryOffsets: categoryOffsets, categoryItems: categoryItems) }
        // Best first, ties by lower id: the position where `item` belongs.
        func position(in list: ArraySlice<UInt32>) -> Int {
            var lo = list.startIndex, hi = list.endIndex
            while lo < hi {
                let mid = (lo + hi) / 2
                let j = list[mid], sj = score[Int(j)]
                if sj > new || (sj == new && j < item) { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        func moved(_ list: ArraySlice<UInt32>) -> [UInt32] {
            var l = Array(list)
            if old > 0, let at = l.firstIndex(of: item) { l.remove(at: at) }
            l.insert(item, at: position(in: l[...]))
            return l
        }
        let ranked = moved(self.ranked[...])
        var offsets = categoryOffsets, items = categoryItems
        if category != Catalog.noCategory && Int(category) + 1 < offsets.count {
            let range = Int(offsets[Int(category)])..<Int(offsets[Int(category) + 1])
            let segment = moved(items[range])
            items.replaceSubrange(range, with: segment)
            if segment.count != range.count {
                for c in (Int(category) + 1)..<offsets.count { offsets[c] += 1 }
            }
        }
        return Popularity(score: score, ranked: ranked, categoryOffsets: offsets, categoryItems: items)
    }

    public var memoryBytes: Int { score.capacity * 4 + ranked.capacity * 4 + categoryOffsets.capacity * 4 + categoryItems.capacity * 4 }
}
