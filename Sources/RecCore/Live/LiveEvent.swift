/// An event received over the wire. Items are kept by name, not by index
/// id, because ids are re-interned by every reload while live events must
/// outlive it.
public struct LiveEvent: Sendable, Equatable {
    public var item: [UInt8]
    public var type: EventType
    /// Unix seconds.
    public var time: Int64
    public var quantity: Float

    public init(item: [UInt8], type: EventType, time: Int64, quantity: Float = 1) {
        self.item = item
        self.type = type
        self.time = time
        self.quantity = quantity
    }
}

/// A catalog change from `ITEM`: only the fields given are set.
public struct ItemPatch: Sendable, Equatable {
    public var item: [UInt8]
    public var inStock: Bool?
    public var category: [UInt8]?
    public var price: Float?
    public var title: [UInt8]?

    public init(item: [UInt8], inStock: Bool? = nil, category: [UInt8]? = nil, price: Float? = nil, title: [UInt8]? = nil) {
        self.item = item
        self.inStock = inStock
        self.category = category
        self.price = price
        self.title = title
    }

    /// Later patches win field by field.
    public mutating func merge(_ later: ItemPatch) {
        if let v = later.inStock { inStock = v }
        if let v = later.category { category = v }
        if let v = later.price { price = v }
        if let v = later.title { title = v }
    }
}
