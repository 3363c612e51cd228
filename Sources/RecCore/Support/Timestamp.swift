/// Timestamps in snapshots: Unix seconds (`1290000000`, `1290000000.5`),
/// Unix milliseconds (any integer above 10^11), or ISO 8601
/// (`2010-12-01`, `2010-12-01T08:26`, `2010-12-01 08:26:00.123+01:00`, `...Z`).
/// ISO times without a zone are taken as UTC so a snapshot means the same on
/// every machine.
public enum Timestamp {
    /// Seconds since the Unix epoch, or nil with no partial guess.
    public static func parse(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        if s.count >= 10, s[4] == UInt8(ascii: "-") { return parseISO(s) }
        if let v = ByteParsing.parseInt(s) {
            return v > 100_000_000_000 ? v / 1000 : v
        }
        if let d = ByteParsing.parseDouble(s), d.isFinite, abs(d) < 1e15 {
            return Int64(d.rounded(.down))
        }
        return nil
    }

    @inline(__always)
    static func digits(_ s: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        if at + count > s.count { return nil }
        var v = 0
        for i in at..<(at + count) {
            let d = s[i] &- 0x30
            if d >= 10 { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    static func parseISO(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let year = digits(s, 0, 4), s[4] == UInt8(ascii: "-"),
              let month = digits(s, 5, 2), s.count > 7, s[7] == UInt8(ascii: "-"),
              let day = digits(s, 8, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0
        var i = 10
        if i < s.count, s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: "t") || s[i] == UInt8(ascii: " ") {
            guard let h = digits(s, i + 1, 2), i + 3 < s.count, s[i + 3] == UInt8(ascii: ":"),
                  let m = digits(s, i + 4, 2), h < 24, m < 60
            else { return nil }
            hour = h; minute = m
            i += 6
            if i < s.count, s[i] == UInt8(ascii: ":") {
                guard let sec = digits(s, i + 1, 2), sec <= 60 else { return nil }
                second = sec
                i += 3
                if i < s.count, s[i] == UInt8(ascii: ".") || s[i] == UInt8(ascii: ",") {
                    i += 1
                    let start = i
                    while i < s.count, ByteParsing.isDigit(s[i]) { i += 1 }
                    if i == start { return nil }
                }
            }
        }
        var offsetSeconds = 0
        if i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                i += 1
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                guard let oh = digits(s, i + 1, 2), oh <= 23 else { return nil }
                var j = i + 3
                var om = 0
                if j < s.count, s[j] == UInt8(ascii: ":") { j += 1 }
                if j < s.count {
                    guard let m = digits(s, j, 2), m < 60 else { return nil }
                    om = m
                    j += 2
                }
                offsetSeconds = (oh * 3600 + om * 60) * (c == UInt8(ascii: "+") ? 1 : -1)
                i = j
            } else {
                return nil
            }
        }
        if i != s.count { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar
    /// (the well-known era-based algorithm; exact for every year).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
