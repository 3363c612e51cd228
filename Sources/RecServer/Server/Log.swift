#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One line per event on stderr, in logfmt (`ts=... level=info event=ready key=value`),
/// so logs grep and parse without a schema.
public enum Log {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug = 0, info, warn, error

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warn: "warn"
            case .error: "error"
            }
        }

        public init?(name: String) {
            guard let l = Level.allCases.first(where: { $0.name == name }) else { return nil }
            self = l
        }
    }

    private static let threshold = Atomic<Int>(Level.info.rawValue)

    public static func setLevel(_ level: Level) { threshold.store(level.rawValue, ordering: .relaxed) }

    public static func debug(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.debug, event, fields) }
    public static func info(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.info, event, fields) }
    public static func warn(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.warn, event, fields) }
    public static func error(_ event: String, _ fields: KeyValuePairs<String, Any> = [:]) { write(.error, event, fields) }

    static func write(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, Any>) {
        guard level.rawValue >= threshold.load(ordering: .relaxed) else { return }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var line = "ts=\(ts.tv_sec).\(String(ts.tv_nsec / 1_000_000).leftPadded(3)) level=\(level.name) event=\(event)"
        for (k, v) in fields { line += " \(k)=\(quote(String(describing: v)))" }
        line += "\n"
        // One write(2) per line keeps concurrent log lines whole.
        var bytes = line
        bytes.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return s }
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
