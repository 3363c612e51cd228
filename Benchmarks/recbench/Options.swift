#if canImport(Glibc)
import Glibc
#endif

/// `--name value` flags, looked up by name; a missing required flag or a bad
/// number exits with a message naming the flag.
struct Options {
    var values: [String: String] = [:]

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--") {
                let name = String(a.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    values[String(name[..<eq])] = String(name[name.index(after: eq)...])
                } else if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") {
                    values[name] = arguments[i + 1]
                    i += 1
                } else {
                    values[name] = "1"
                }
            } else if a.hasPrefix("-"), a.count == 2, i + 1 < arguments.count {
                values[String(a.dropFirst())] = arguments[i + 1]
                i += 1
            }
            i += 1
        }
    }

    func string(_ name: String) -> String? { values[name] }

    /// A switch: present (`--name`, `--name 1`, `--name=yes`) or absent.
    func flag(_ name: String) -> Bool {
        guard let v = values[name] else { return false }
        return v != "0" && v != "no" && v != "false"
    }

    func required(_ name: String) -> String {
        guard let v = values[name] else { Options.fail("missing --\(name)") }
        return v
    }

    func int(_ name: String, _ fallback: Int) -> Int {
        guard let v = values[name] else { return fallback }
        guard let n = Int(v) else { Options.fail("--\(name) must be an integer, got '\(v)'") }
        return n
    }

    static func fail(_ message: String) -> Never {
        printError("recbench: \(message)")
        exit(2)
    }
}

/// Writes a line to stderr (a plain write(2): Swift 6 forbids the `stderr` global).
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
