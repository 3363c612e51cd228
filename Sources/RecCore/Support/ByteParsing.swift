/// Number parsing straight from bytes. Snapshot loading and request decoding
/// both call these once per field, so they must not build `String`s.
public enum ByteParsing {
    @inlinable @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// Parses an optionally signed decimal integer that fills the whole slice.
    /// Returns nil on any other byte, on an empty slice, or on overflow.
    @inlinable
    public static func parseInt(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = s.count
        if n == 0 { return nil }
        var negative = false
        if s[0] == UInt8(ascii: "-") || s[0] == UInt8(ascii: "+") {
            negative = s[0] == UInt8(ascii: "-")
            i = 1
            if n == 1 { return nil }
        }
        var value: Int64 = 0
        while i < n {
            let d = s[i] &- 0x30
            if d >= 10 { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        return negative ? -value : value
    }

    /// Parses a decimal number such as `2.55`, `-0.001`, `1e-5` or `-5.24111e-33`.
    /// Accurate to a few ulps, which is plenty for weights, prices and scores;
    /// `nan` and `inf` are rejected so bad input cannot poison an index.
    @inlinable
    public static func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = s.count
        if n == 0 { return nil }
        var i = 0
        var negative = false
        if s[0] == UInt8(ascii: "-") || s[0] == UInt8(ascii: "+") {
            negative = s[0] == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0
        var exponent = 0
        var digits = 0
        var significant = 0
        while i < n, isDigit(s[i]) {
            if significant < 19 {
                mantissa = mantissa &* 10 &+ UInt64(s[i] &- 0x30)
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
            }
            digits += 1
            i += 1
        }
        if i < n, s[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, isDigit(s[i]) {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(s[i] &- 0x30)
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                }
                digits += 1
                i += 1
            }
        }
        if digits == 0 { return nil }
        if i < n, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
                expNegative = s[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            var expDigits = 0
            while i < n, isDigit(s[i]) {
                if e < 100_000 { e = e * 10 + Int(s[i] &- 0x30) }
                expDigits += 1
                i += 1
            }
            if expDigits == 0 { return nil }
            exponent += expNegative ? -e : e
        }
        if i != n { return nil }
        var value = Double(mantissa)
        if exponent != 0 && mantissa != 0 {
            value = scale(value, byPowerOfTen: exponent)
        }
        return negative ? -value : value
    }

    static let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    @usableFromInline
    static func scale(_ v: Double, byPowerOfTen e: Int) -> Double {
        if e > 308 + 19 { return .infinity }
        if e < -343 { return 0 }
        var result = v
        var k = e
        // Split extreme exponents so intermediate powers stay finite.
        while k > 22 { result *= 1e22; k -= 22 }
        while k < -22 { result /= 1e22; k += 22 }
        return k >= 0 ? result * powersOfTen[k] : result / powersOfTen[-k]
    }

    /// ASCII case-insensitive comparison of `s` with a lowercase literal.
    @inlinable
    public static func equalsLowercase(_ s: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        let n = lower.utf8CodeUnitCount
        if s.count != n { return false }
        let p = lower.utf8Start
        for i in 0..<n {
            var c = s[i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }  // fold A-Z onto a-z only
            if c != p[i] { return false }
        }
        return true
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// A sub-slice as its own buffer pointer, without bounds juggling at call sites.
    @inlinable @inline(__always)
    public func slice(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[start..<end])
    }
}
