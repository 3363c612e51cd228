import RecCore

/// Every number a request may carry, with its range: the parser checks each
/// one here, its error names the field, the value and the range, and the
/// README's table of ranges is held to `table` by a test. The stored ranges
/// (times, quantities, prices, vectors) are `ValueRanges`, which log replay
/// and the snapshot loader apply too.
enum ArgumentRanges {
    /// Field, what it accepts: the README's table, in its order.
    static let table: [(field: String, range: String)] = [
        ("k", "an integer from 1 to max-k (default 1000)"),
        ("ef", "an integer from 0 (exact) to 10000"),
        ("since", "a number of days greater than 0, at most 36500"),
        ("now", "Unix seconds or ISO 8601, from 1970-01-01 to 9999-12-31"),
        ("ts", "Unix seconds, milliseconds or ISO 8601, from 1970-01-01 to now + max-clock-skew"),
        ("qty", "a number from 0.000001 to 1000000000"),
        ("price", "a number from 0 to 1000000000000"),
        ("VREC values", "finite numbers from -1e9 to 1e9, not all 0, as many as the index's dimension (1 to 4096)"),
        ("hybrid-weight", "a number from 0 to 1 (setting, experiment variant)"),
        ("embedding dimension", "1 to 4096 values per vector (embeddings.tsv, embeddings.f32)"),
    ]

    static func range(_ field: String) -> String { table.first { $0.field == field }!.range }

    static func failure(_ field: String, _ value: UnsafeBufferPointer<UInt8>, range: String? = nil) -> CommandError {
        .syntax("\(field) must be \(range ?? Self.range(field)), got '\(Request.show(value))'")
    }

    static func k(_ value: UnsafeBufferPointer<UInt8>, maxK: Int) throws(CommandError) -> Int {
        guard let k = ByteParsing.parseInt(value), k >= 1, k <= maxK else {
            throw failure("k", value, range: "an integer from 1 to \(maxK) (max-k)")
        }
        return Int(k)
    }

    static func ef(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Int {
        guard let ef = ByteParsing.parseInt(value), ef >= 0, ef <= 10_000 else { throw failure("ef", value) }
        return Int(ef)
    }

    static let maxSinceDays = 36_500.0

    static func sinceDays(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Double {
        guard let d = ByteParsing.parseDouble(value), d > 0, d <= maxSinceDays else { throw failure("since", value) }
        return d
    }

    static func now(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Int64 {
        guard let t = Timestamp.parse(value), ValueRanges.isValidTime(t) else { throw failure("now", value) }
        return t
    }

    /// An event's time: never before 1970 (backdated imports are fine),
    /// never past `latest` (now plus the allowed clock skew), so a typo or
    /// microseconds sent by mistake cannot make every item due at once.
    static func ts(_ value: UnsafeBufferPointer<UInt8>, latest: Int64, skew: Int) throws(CommandError) -> Int64 {
        guard let t = Timestamp.parse(value), t >= ValueRanges.times.lowerBound, t <= latest else {
            throw failure("ts", value, range: "Unix seconds, milliseconds or ISO 8601, from 1970-01-01 to now + max-clock-skew (\(skew) s)")
        }
        return t
    }

    static func qty(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Float {
        guard let q = ByteParsing.parseDouble(value), ValueRanges.isValidQuantity(q) else { throw failure("qty", value) }
        return Float(q)
    }

    static func price(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Float {
        guard let p = ByteParsing.parseDouble(value), ValueRanges.isValidPrice(p) else { throw failure("price", value) }
        return Float(p)
    }

    /// One value of a query vector; nil when it is not a finite number within ±1e9.
    static func vectorComponent(_ value: UnsafeBufferPointer<UInt8>) -> Float? {
        guard let x = ByteParsing.parseDouble(value), abs(x) <= ValueRanges.maxComponent else { return nil }  // NaN fails too
        return Float(x)
    }
}
