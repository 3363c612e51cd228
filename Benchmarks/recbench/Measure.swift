import RecCore
#if canImport(Glibc)
import Glibc
#endif

/// Timing and memory readings shared by the benchmarks.
enum Measure {
    /// Monotonic nanoseconds.
    @inline(__always)
    static func now() -> UInt64 { MonotonicClock.nanoseconds() }

    /// Peak resident set size of this process, from /proc (VmHWM), in bytes.
    static func peakRSS() -> Int { procStatus("VmHWM:") }
    static func currentRSS() -> Int { procStatus("VmRSS:") }

    static func procStatus(_ key: String) -> Int {
        guard let bytes = try? FileBytes.read("/proc/self/status") else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let digits = line.dropFirst(key.count).filter { $0.isNumber }
            return (Int(String(digits)) ?? 0) * 1024
        }
        return 0
    }

    /// The p-th percentile (0...100) of sorted values, nearest rank.
    static func percentile(_ sorted: [UInt64], _ p: Double) -> UInt64 {
        if sorted.isEmpty { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(sorted.count - 1, max(0, rank))]
    }

    static func mib(_ bytes: Int) -> String { format(Double(bytes) / 1_048_576, 1) + " MiB" }

    static func format(_ v: Double, _ decimals: Int) -> String {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (v * p).rounded() / p
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: dot, to: s.endIndex) - 1
            if have < decimals { s += String(repeating: "0", count: decimals - have) }
        } else if decimals > 0 {
            s += "." + String(repeating: "0", count: decimals)
        }
        return s
    }
}
