import RecCore
import RecServer
#if canImport(Glibc)
import Glibc
#endif

// recd: the recommendation daemon. Everything lives in RecServer; this file
// only turns arguments into a config and exits with a message on failure.

Allocator.reuseFreedMemory()
let arguments = Array(CommandLine.arguments.dropFirst())
let config: ServerConfig
do {
    let (loaded, commandLine) = try ConfigLoader.load(arguments: arguments)
    if commandLine.showHelp {
        print("usage: recd [--config FILE] [--name value ...]\n\nsettings (also in config/recd.conf):")
        for s in Settings.all {
            print("  --\(s.name) \(s.defaultValue)".padding(toLength: 34, withPad: " ", startingAt: 0) + s.help)
        }
        exit(0)
    }
    config = loaded
} catch {
    Log.error("bad_config", ["error": error.description])
    exit(2)
}
Log.setLevel(config.logLevel)
if config.requirePass.isEmpty && !["127.0.0.1", "localhost", "::1"].contains(config.bind) {
    Log.warn("no_password", ["bind": config.bind, "hint": "anyone who can reach this address can read and write; set requirepass"])
}
Log.info("starting", ["version": RecdVersion.string, "snapshot": config.snapshot, "shards": config.build.shards])

let live: LiveService
do {
    live = try LiveService.start(config)
} catch {
    Log.error("start_failed", ["error": error.description])
    exit(1)
}

let cluster: ClusterState?
do {
    cluster = try ClusterState.start(config)
} catch {
    Log.error("bad_cluster_config", ["error": error.description])
    exit(2)
}
if let cluster { Log.info("cluster", ["me": cluster.me, "id": cluster.myID, "epoch": cluster.map.epoch]) }
let server = Server(live: live, cluster: cluster)
let shutdown = Daemon.Shutdown()
do {
    let port = try server.start()
    let index = live.store.load()
    Log.info("ready", [
        "addr": "\(config.bind):\(port)", "items": index.itemCount, "users": index.userCount,
        "neighbors": index.stats.neighborEntries, "build_ms": Int(index.stats.totalSeconds * 1000),
        "threads": server.threadCount, "live_events": live.state.eventCount,
    ])
} catch {
    Log.error("listen_failed", ["error": error.description])
    exit(1)
}
Daemon.serveUntilSignalled(server, shutdown)
live.log.syncIfDirty()
