import RecCore

/// Reads `recd.conf` (redis.conf style: `name value` per line, `#` comments)
/// and command-line flags (`--name value` or `--name=value`, any setting),
/// flags winning over the file.
public enum ConfigLoader {
    /// Applies a config file's text to `config`. `origin` names the file in errors.
    public static func apply(fileText: String, origin: String, to config: inout ServerConfig) throws(ConfigError) {
        var lineNumber = 0
        for rawLine in fileText.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let name = parts[0].lowercased()
            let at = "\(origin):\(lineNumber)"
            guard let setting = Settings.named(name) else { throw .unknownSetting(name: name, origin: at) }
            guard parts.count == 2 else { throw .missingValue(name: name, origin: at) }
            try setting.set(&config, unquote(parts[1].trimmingSpaces()), origin: at)
        }
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, s.first == "\"", s.last == "\"" { return String(s.dropFirst().dropLast()) }
        return s
    }

    /// What the command line asked for, besides settings.
    public struct CommandLine: Sendable {
        public var configPath: String?
        public var flags: [(name: String, value: String)] = []
        public var showHelp = false
    }

    public static func parse(arguments: [String]) throws(ConfigError) -> CommandLine {
        var result = CommandLine()
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "-h" || arg == "--help" {
                result.showHelp = true
                i += 1
                continue
            }
            guard arg.hasPrefix("--"), arg.count > 2 else {
                throw .unknownSetting(name: arg, origin: "command line")
            }
            var name = String(arg.dropFirst(2))
            var value: String
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            } else {
                guard i + 1 < arguments.count else { throw .missingValue(name: name, origin: "command line") }
                value = arguments[i + 1]
                i += 1
            }
            name = name.lowercased()
            if name == "config" {
                result.configPath = value
            } else {
                guard Settings.named(name) != nil else { throw .unknownSetting(name: name, origin: "command line") }
                result.flags.append((name, value))
            }
            i += 1
        }
        return result
    }

    /// The effective configuration: defaults, then the file, then the flags.
    /// With no `--config`, `defaultPath` is read if it exists.
    public static func load(arguments: [String], defaultPath: String = "config/recd.conf") throws(ConfigError)
        -> (ServerConfig, CommandLine) {
        let commandLine = try parse(arguments: arguments)
        var config = ServerConfig()
        let path = commandLine.configPath ?? (FileBytes.exists(defaultPath) ? defaultPath : nil)
        if let path {
            guard let bytes = try? FileBytes.read(path) else { throw .unreadable(path: path) }
            try apply(fileText: String(decoding: bytes, as: UTF8.self), origin: path, to: &config)
        }
        for (name, value) in commandLine.flags {
            try Settings.named(name)!.set(&config, value, origin: "--\(name)")
        }
        return (config, commandLine)
    }
}
