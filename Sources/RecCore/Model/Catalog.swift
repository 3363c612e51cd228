/// Per-item catalog state that filters read: category, stock, price, title.
/// Indexed by dense item id; items seen only in events get the defaults
/// (no category, in stock, unknown price).
public struct Catalog: Sendable {
    public static let noCategory = UInt32.max

    public var categories = ByteInterner()
    public private(set) var category: [UInt32] = []
    public private(set) var inStock: [Bool] = []
    /// NaN where the price is unknown.
    public private(set) var price: [Float] = []
    var titleArena: [UInt8] = []
    var titleStart: [UInt32] = []
    var titleLength: [UInt32] = []

    public init() {}

    public var count: Int { category.count }

    /// Grows the per-item arrays so `itemCount` ids are valid.
    public mutating func ensureCount(_ itemCount: Int) {
        let extra = itemCount - category.count
        if extra <= 0 { return }
        category.append(contentsOf: repeatElement(Catalog.noCategory, count: extra))
        inStock.append(contentsOf: repeatElement(true, count: extra))
        price.append(contentsOf: repeatElement(Float.nan, count: extra))
        titleStart.append(contentsOf: repeatElement(0, count: extra))
        titleLength.append(contentsOf: repeatElement(0, count: extra))
    }

    public mutating func setCategory(_ item: UInt32, _ name: UnsafeBufferPointer<UInt8>) {
        ensureCount(Int(item) + 1)
        category[Int(item)] = name.isEmpty ? Catalog.noCategory : categories.intern(name)
    }

    public mutating func setCategory(_ item: UInt32, _ name: String) {
        var name = name
        name.withUTF8 { setCategory(item, $0) }
    }

    public mutating func setInStock(_ item: UInt32, _ value: Bool) {
        ensureCount(Int(item) + 1)
        inStock[Int(item)] = value
    }

    public mutating func setPrice(_ item: UInt32, _ value: Float) {
        ensureCount(Int(item) + 1)
        price[Int(item)] = value
    }

    public mutating func setTitle(_ item: UInt32, _ title: UnsafeBufferPointer<UInt8>) {
        ensureCount(Int(item) + 1)
        titleStart[Int(item)] = UInt32(titleArena.count)
        titleLength[Int(item)] = UInt32(title.count)
        titleArena.append(contentsOf: title)
    }

    public func title(_ item: UInt32) -> String {
        guard Int(item) < count else { return "" }
        let s = Int(titleStart[Int(item)]), n = Int(titleLength[Int(item)])
        return titleArena.withUnsafeBufferPointer { String(decoding: $0.slice(s, s + n), as: UTF8.self) }
    }

    public var memoryBytes: Int {
        categories.memoryBytes + category.capacity * 4 + inStock.capacity + price.capacity * 4
            + titleArena.capacity + titleStart.capacity * 8
    }
}
