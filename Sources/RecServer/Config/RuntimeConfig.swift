import Synchronization

/// The settings as they are now, shared by every loop: `CONFIG SET`
/// changes them here, and each command handler picks up a new generation
/// with one relaxed atomic load per command (a plain load on x86).
final class RuntimeConfig: Sendable {
    private let state: Mutex<ServerConfig>
    let generation = Atomic<Int>(0)

    /// What `CONFIG SET` may change: the settings read where they are used,
    /// not baked into the index, the event log or the listening socket.
    static let settable: Set<String> = [
        "maxclients", "timeout", "client-output-stall-seconds", "slowlog-log-slower-than", "max-k", "hnsw-ef",
        "hybrid-weight", "max-clock-skew", "max-line-bytes", "max-request-bytes", "max-args", "requirepass", "loglevel",
    ]

    init(_ config: ServerConfig) { state = Mutex(config) }

    var current: ServerConfig { state.withLock { $0 } }

    /// Applies `pairs` all or nothing.
    func set(_ pairs: [(String, String)]) throws(ConfigError) {
        try state.withLock { (config: inout ServerConfig) throws(ConfigError) in
            var next = config
            for (name, value) in pairs {
                guard let setting = Settings.named(name) else { throw .unknownSetting(name: name, origin: "CONFIG SET") }
                guard RuntimeConfig.settable.contains(name) else { throw .notAtRunTime(name: name) }
                try setting.set(&next, value, origin: "CONFIG SET")
            }
            config = next
            Log.setLevel(next.logLevel)
        }
        generation.add(1, ordering: .releasing)
    }
}
