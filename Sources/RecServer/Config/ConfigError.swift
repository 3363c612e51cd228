/// A configuration that cannot start the daemon, naming the setting and
/// where it came from.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownSetting(name: String, origin: String)
    case badValue(name: String, value: String, expected: String, origin: String)
    case missingValue(name: String, origin: String)
    case unreadable(path: String)
    case notAtRunTime(name: String)

    public var description: String {
        switch self {
        case .unknownSetting(let n, let o): "\(o): unknown setting '\(n)' (recd --help lists them)"
        case .badValue(let n, let v, let e, let o): "\(o): bad value '\(v)' for \(n): expected \(e)"
        case .missingValue(let n, let o): "\(o): setting '\(n)' needs a value"
        case .unreadable(let p): "cannot read config file \(p)"
        case .notAtRunTime(let n): "CONFIG SET: '\(n)' cannot change while recd runs; set it in recd.conf or with --\(n) and restart"
        }
    }
}
