extension LogRecord {
    /// Why this record cannot be applied, or nil when it can. Requests are
    /// checked field by field before they are logged; this is the same
    /// check again for replay, where a record an older version accepted
    /// (a time in year -292 billion, an infinite price) must be skipped
    /// instead of stopping every start. `latestTime`: now plus the clock
    /// skew allowed, so a record logged with a valid time always passes.
    public func problem(latestTime: Int64) -> String? {
        switch self {
        case .event(let user, let e):
            if user.isEmpty || e.item.isEmpty { return "event with an empty user or item id" }
            if e.time < ValueRanges.times.lowerBound || e.time > latestTime {
                return "event time \(e.time) is outside 1970-01-01 to now + max-clock-skew"
            }
            if !ValueRanges.isValidQuantity(Double(e.quantity)) { return "event quantity \(e.quantity) is outside 0.000001 to 1e9" }
        case .item(let p):
            if p.item.isEmpty { return "item change with an empty id" }
            if let price = p.price, !ValueRanges.isValidPrice(Double(price)) { return "item price \(price) is outside 0 to 1e12" }
        case .forget(let user):
            if user.isEmpty { return "forget with an empty user id" }
        case .alias(let from, let to):
            if from.isEmpty || to.isEmpty || from == to { return "alias of an empty id or of an id to itself" }
        }
        return nil
    }
}
