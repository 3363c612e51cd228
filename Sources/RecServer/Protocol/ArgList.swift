/// The arguments of one decoded command, as byte ranges into the connection's
/// input buffer. Reused for every command, so decoding allocates nothing.
public struct ArgList {
    public private(set) var starts: [Int] = []
    public private(set) var ends: [Int] = []

    public init() {
        starts.reserveCapacity(16)
        ends.reserveCapacity(16)
    }

    public var count: Int { starts.count }

    mutating func removeAll() {
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    mutating func append(_ start: Int, _ end: Int) {
        starts.append(start)
        ends.append(end)
    }

    mutating func setEnd(_ i: Int, _ end: Int) { ends[i] = end }
}
