/// Parsed rows staged column by column and appended to an `EventTable` a
/// few thousand at a time: appending each row to five arrays paid five
/// uniqueness and capacity checks per row (about a tenth of the parse).
struct RowBatch: ~Copyable {
    static let capacity = 4096
    private let user = UnsafeMutablePointer<UInt32>.allocate(capacity: RowBatch.capacity)
    private let item = UnsafeMutablePointer<UInt32>.allocate(capacity: RowBatch.capacity)
    private let type = UnsafeMutablePointer<EventType>.allocate(capacity: RowBatch.capacity)
    private let time = UnsafeMutablePointer<Int64>.allocate(capacity: RowBatch.capacity)
    private let quantity = UnsafeMutablePointer<Float>.allocate(capacity: RowBatch.capacity)
    private var count = 0

    init() {}

    deinit {
        user.deallocate()
        item.deallocate()
        type.deallocate()
        time.deallocate()
        quantity.deallocate()
    }

    @inline(__always)
    mutating func add(user u: UInt32, item i: UInt32, type t: EventType, time ts: Int64, quantity q: Float,
                      flushingInto events: inout EventTable) {
        user[count] = u
        item[count] = i
        (type + count).initialize(to: t)
        time[count] = ts
        quantity[count] = q
        count += 1
        if count == RowBatch.capacity { flush(into: &events) }
    }

    mutating func flush(into events: inout EventTable) {
        events.append(users: UnsafeBufferPointer(start: user, count: count), items: UnsafeBufferPointer(start: item, count: count),
                      types: UnsafeBufferPointer(start: type, count: count), times: UnsafeBufferPointer(start: time, count: count),
                      quantities: UnsafeBufferPointer(start: quantity, count: count))
        count = 0
    }
}
