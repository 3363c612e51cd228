import Foundation

/// Writes numbers as ASCII straight into an output buffer: Foundation's
/// formatting (and `description`) would build a `String` per score.
public enum NumberWriter {
    public static func writeInt(_ value: Int, into out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            writeUInt(UInt64(value.magnitude), into: &out)
        } else {
            writeUInt(UInt64(value), into: &out)
        }
    }

    public static func writeUInt(_ value: UInt64, into out: inout [UInt8]) {
        if value < 10 { out.append(UInt8(truncatingIfNeeded: value) + 0x30); return }
        var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes of scratch on the stack
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while v > 0 {
                raw[15 - count] = UInt8(truncatingIfNeeded: v % 10) + 0x30
                v /= 10
                count += 1
                if count == 16 { break }
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(16 - count)...]))
        }
        if v > 0 {
            // More than 16 digits: rare enough to take the slow path.
            out.removeLast(count)
            out.append(contentsOf: Array(String(value).utf8))
        }
    }

    static let powers: [UInt64] = (0...18).map { p in (0..<p).reduce(UInt64(1)) { a, _ in a * 10 } }

    /// Up to 6 significant digits, trailing zeros dropped, plain notation for
    /// magnitudes from 1e-5 to 1e15 and `1.5e-07`-style beyond; like `%g`.
    public static func writeScore(_ value: Float, into out: inout [UInt8]) {
        var d = Double(value)
        if !d.isFinite || d == 0 { out.append(UInt8(ascii: "0")); return }
        if d < 0 { out.append(UInt8(ascii: "-")); d = -d }
        var exponent = decimalExponent(d)
        if exponent >= -5 && exponent < 15 {
            let decimals = max(0, 5 - exponent)
            let scaled = UInt64((d * Double(powers[decimals])).rounded())
            let integer = scaled / powers[decimals]
            var fraction = scaled % powers[decimals]
            writeUInt(integer, into: &out)
            if fraction == 0 { return }
            var width = decimals
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            out.append(UInt8(ascii: "."))
            var pad = width - digitCount(fraction)
            while pad > 0 { out.append(UInt8(ascii: "0")); pad -= 1 }
            writeUInt(fraction, into: &out)
            return
        }
        var mantissa = UInt64((d / pow(10, Double(exponent)) * 100_000).rounded())
        if mantissa >= 1_000_000 { mantissa /= 10; exponent += 1 }
        writeUInt(mantissa / 100_000, into: &out)
        var fraction = mantissa % 100_000
        if fraction != 0 {
            var width = 5
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            out.append(UInt8(ascii: "."))
            var pad = width - digitCount(fraction)
            while pad > 0 { out.append(UInt8(ascii: "0")); pad -= 1 }
            writeUInt(fraction, into: &out)
        }
        out.append(UInt8(ascii: "e"))
        out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        if abs(exponent) < 10 { out.append(UInt8(ascii: "0")) }
        writeUInt(UInt64(abs(exponent)), into: &out)
    }

    /// 10^p for p in -5...15.
    static let decades: [Double] = (-5...15).map { pow(10, Double($0)) }

    /// floor(log10(d)) for d > 0: by comparison in the plain-notation range,
    /// where every score falls (log10 was a third of the cost of a SIM
    /// reply's scores in perf).
    @inline(__always)
    static func decimalExponent(_ d: Double) -> Int {
        guard d >= decades[0] && d < decades[20] else { return Int(log10(d).rounded(.down)) }
        var p = 0
        while p < 14 && d >= decades[p + 6] { p += 1 }
        while p > -5 && d < decades[p + 5] { p -= 1 }
        return p
    }

    @inline(__always)
    static func digitCount(_ v: UInt64) -> Int {
        var n = 1
        var x = v
        while x >= 10 { x /= 10; n += 1 }
        return n
    }
}
