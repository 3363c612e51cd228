import Foundation
import RecCore

/// The network service: one listening socket, `threads` event loops each on
/// its own thread, all answering from the same `IndexStore`.
public final class Server: ServerInfoSource, @unchecked Sendable {
    // @unchecked: `loops`, `threads` and `listener` are set in `start()` and
    // cleared in `stop()`, both called from the owning (main) thread only.
    public let config: ServerConfig
    public let store: IndexStore
    /// Live state and operations (EVENT, RELOAD, ...); nil serves a fixed index.
    public let live: LiveService?
    public let stats = ServerStats()
    /// The cluster map and this node's place in it; nil when standalone.
    public let cluster: ClusterState?
    let clients = ClientRegistry()
    /// The settings `CONFIG SET` may change while serving.
    let runtime: RuntimeConfig
    private var listener: ListeningSocket?
    private var loops: [EventLoop] = []
    private let finished = DispatchGroup()
    private var admin: AdminServer?
    private var opsSampler: DispatchSourceTimer?

    public init(config: ServerConfig, store: IndexStore, cluster: ClusterState? = nil) {
        self.cluster = cluster
        self.config = config
        self.runtime = RuntimeConfig(config)
        self.store = store
        self.live = nil
    }

    public init(live: LiveService, cluster: ClusterState? = nil) {
        self.cluster = cluster
        self.config = live.config
        self.runtime = RuntimeConfig(live.config)
        self.store = live.store
        self.live = live
    }

    public var boundPort: Int { listener?.port ?? config.port }
    /// The admin HTTP port actually bound, or nil when it is off.
    public var adminPort: Int? { admin?.port }
    public var threadCount: Int { loops.count }

    /// Binds and starts the loops. Returns the bound port.
    @discardableResult
    public func start() throws(SocketError) -> Int {
        let listener = try ListeningSocket(host: config.bind, port: config.port)
        self.listener = listener
        for i in 0..<config.resolvedThreads {
            let loop = try EventLoop(listener: listener, runtime: runtime, stats: stats, store: store, live: live, clients: clients,
                                     cluster: cluster)
            loop.handler.server = self
            loops.append(loop)
            finished.enter()
            let thread = Thread { [finished] in
                loop.run()
                finished.leave()
            }
            thread.name = "recd-loop-\(i)"
            thread.start()
        }
        let sampler = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "recd.ops-sampler"))
        sampler.schedule(deadline: .now() + 1, repeating: 1)
        sampler.setEventHandler { [stats] in stats.sampleOps() }
        sampler.resume()
        opsSampler = sampler
        if config.adminPort > 0 {
            let (store, stats, live) = (store, stats, live)
            let admin = try AdminServer(host: config.bind, port: config.adminPort) {
                PrometheusText.render(index: store.load(), stats: stats, live: live)
            }
            admin.start()
            self.admin = admin
        }
        return listener.port
    }

    /// Stops every loop, closes every connection and the listener, and waits.
    public func stop() {
        admin?.stop()
        admin = nil
        opsSampler?.cancel()
        opsSampler = nil
        for loop in loops { loop.stop() }
        finished.wait()
        loops.removeAll()
        listener?.close()
        listener = nil
    }
}
