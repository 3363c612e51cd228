/// What a visitor did with an item. Stored as one byte per event.
public enum EventType: UInt8, Sendable, CaseIterable {
    case view = 0
    case cart = 1
    case purchase = 2

    /// Recognises the common spellings from shop exports (`addtocart`,
    /// `transaction`, `click`, ...), case-insensitively.
    public static func parse(_ s: UnsafeBufferPointer<UInt8>) -> EventType? {
        switch s.count {
        case 3: return ByteParsing.equalsLowercase(s, "buy") ? .purchase : nil
        case 4:
            if ByteParsing.equalsLowercase(s, "view") { return .view }
            if ByteParsing.equalsLowercase(s, "cart") { return .cart }
            return nil
        case 5:
            if ByteParsing.equalsLowercase(s, "click") { return .view }
            if ByteParsing.equalsLowercase(s, "order") { return .purchase }
            return nil
        case 8: return ByteParsing.equalsLowercase(s, "purchase") ? .purchase : nil
        case 9: return ByteParsing.equalsLowercase(s, "addtocart") ? .cart : nil
        case 11:
            if ByteParsing.equalsLowercase(s, "add_to_cart") { return .cart }
            if ByteParsing.equalsLowercase(s, "transaction") { return .purchase }
            return nil
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .view: "view"
        case .cart: "cart"
        case .purchase: "purchase"
        }
    }
}

/// How much each event type counts towards affinity and popularity.
public struct EventWeights: Sendable, Equatable {
    public var view: Float = 1
    public var cart: Float = 3
    public var purchase: Float = 5

    public init(view: Float = 1, cart: Float = 3, purchase: Float = 5) {
        self.view = view
        self.cart = cart
        self.purchase = purchase
    }

    @inline(__always)
    public subscript(type: EventType) -> Float {
        switch type {
        case .view: view
        case .cart: cart
        case .purchase: purchase
        }
    }
}
