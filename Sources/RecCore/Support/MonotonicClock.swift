#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC as plain integers: one vDSO call, no Duration
/// arithmetic, cheap enough to time every command.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @inline(__always)
    public static func seconds() -> Int { Int(nanoseconds() / 1_000_000_000) }
}

extension Duration {
    /// The duration in seconds, for logs, reports and build phases.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
