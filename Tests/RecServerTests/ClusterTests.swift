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
