import Foundation
import RecCore

/// Redis Cluster's view of recd: the map as cluster clients read it
/// (`CLUSTER SLOTS`, `SHARDS`, `NODES`, `INFO`), redirection of per-user
/// commands to the primary of the user's slot (`-MOVED`), and READONLY
/// reads from replicas.
extension CommandHandler {
    /// False after writing the redirection for a per-user command whose
    /// user this node does not serve; true to run it here.
    func redirected(_ command: Command, _ request: Request, _ cluster: ClusterState, _ encoder: ReplyEncoder,
                    _ out: inout [UInt8], _ client: inout ClientState) -> Bool {
        if command == .segment && ByteParsing.equalsLowercase(request[1], "count") { return true }
        // A segment's lookalikes come from the snapshot, the same on every node.
        if command == .lookalike && config.segmentRules.rules.contains(where: { request[1].elementsEqual($0.name.utf8) }) { return true }
        let isRead = !command.spec.flags.contains("write")
        switch cluster.route(request[1], readOnlyClient: client.readOnly, isRead: isRead) {
        case .here:
            return true
        case .moved(let slot, let node):
            errorCounts[command.rawValue] += 1
            if client.queued != nil { client.transactionFailed = true }
            encoder.redisError("MOVED", "\(slot) \(node)", into: &out)
        case .unassigned(let slot):
            errorCounts[command.rawValue] += 1
            encoder.redisError("CLUSTERDOWN", "Hash slot \(slot) not served; the cluster map assigns it to no shard", into: &out)
        }
        return false
    }

    /// Before a per-user write: the slot's primary refuses it while too few
    /// replicas are in sync. Returns the slot to forward to afterwards, or
    /// nil (standalone, or a write that came over a replication link).
    func replicationSlot(_ user: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Int? {
        guard let cluster = passOn else { return nil }
        let slot = KeySlot.of(user)
        try cluster.checkWritable(slot: slot)
        return slot
    }

    func runCluster(_ command: Command, _ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8],
                    _ client: inout ClientState) throws(CommandError) -> Action {
        guard let cluster else {
            if command == .cluster {
                encoder.write(.error("ERR This instance has cluster support disabled"), into: &out)
                return .keepOpen
            }
            throw CommandError(code: "NOCLUSTER", message: "this node is standalone; set cluster-config to join a cluster")
        }
        switch command {
        case .readonly:
            client.readOnly = true
            encoder.status("OK", into: &out)
        case .readwrite:
            client.readOnly = false
            encoder.status("OK", into: &out)
        case .asking:
            encoder.status("OK", into: &out)
        case .cluster where (2...3).contains(request.count) && ByteParsing.equalsLowercase(request[1], "replicating"):
            client.replicationLink = true
            client.catchingUp = request.count == 3 && ByteParsing.equalsLowercase(request[2], "catchup")
            encoder.status("OK", into: &out)
        default:
            try clusterCommand(request, cluster, encoder, &out)
        }
        return .keepOpen
    }

    func clusterCommand(_ request: Request, _ cluster: ClusterState, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) {
        let sub = String(decoding: request[1], as: UTF8.self).uppercased()
        let map = cluster.map
        func node(_ address: String) -> Reply {
            let (host, port) = ClusterMap.split(address)
            return .array([.text(host), .integer(port), .text(ClusterMap.nodeID(address))])
        }
        switch sub {
        case "SLOTS":
            var entries: [Reply] = []
            for shard in map.shards {
                for range in shard.slots {
                    entries.append(.array([.integer(range.lowerBound), .integer(range.upperBound), node(shard.primary)]
                                          + shard.replicas.map(node)))
                }
            }
            encoder.write(.array(entries), into: &out)
        case "SHARDS":
            encoder.write(.array(map.shards.map { shard in
                let slots = shard.slots.flatMap { [Reply.integer($0.lowerBound), .integer($0.upperBound)] }
                let nodes = ([shard.primary] + shard.replicas).enumerated().map { n, address -> Reply in
                    let (host, port) = ClusterMap.split(address)
                    return .fields([("id", .text(ClusterMap.nodeID(address))), ("port", .integer(port)), ("ip", .text(host)),
                                    ("endpoint", .text(host)), ("role", .text(n == 0 ? "master" : "replica")),
                                    ("replication-offset", .integer(0)), ("health", .text("online"))])
                }
                return .fields([("slots", .array(slots)), ("nodes", .array(nodes))])
            }), into: &out)
        case "NODES":
            var lines: [String] = []
            for shard in map.shards {
                let primaryID = ClusterMap.nodeID(shard.primary)
                let slots = shard.slots.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                let (h, p) = ClusterMap.split(shard.primary)
                let myself = shard.primary == cluster.me ? "myself," : ""
                lines.append(([primaryID, "\(h):\(p)@\(p + 10000)", "\(myself)master", "-", "0", "0", String(map.epoch), "connected"]
                              + slots).joined(separator: " "))
                for r in shard.replicas {
                    let (rh, rp) = ClusterMap.split(r)
                    let me = r == cluster.me ? "myself," : ""
                    lines.append([ClusterMap.nodeID(r), "\(rh):\(rp)@\(rp + 10000)", "\(me)slave", primaryID, "0", "0",
                                  String(map.epoch), "connected"].joined(separator: " "))
                }
            }
            encoder.write(.bulk(Array((lines.joined(separator: "\n") + "\n").utf8)), into: &out)
        case "INFO":
            let assigned = map.owner.filter { $0 >= 0 }.count
            let text = ["cluster_state:\(assigned == KeySlot.count ? "ok" : "fail")", "cluster_slots_assigned:\(assigned)",
                        "cluster_slots_ok:\(assigned)", "cluster_slots_pfail:0", "cluster_slots_fail:0",
                        "cluster_known_nodes:\(map.nodes.count)", "cluster_size:\(map.shards.count)",
                        "cluster_current_epoch:\(map.epoch)", "cluster_my_epoch:\(map.epoch)"].joined(separator: "\r\n") + "\r\n"
            encoder.write(.bulk(Array(text.utf8)), into: &out)
        case "MYID":
            encoder.write(.text(cluster.myID), into: &out)
        case "KEYSLOT":
            guard request.count == 3 else { throw CommandError(code: "SYNTAX", message: "CLUSTER KEYSLOT needs the key") }
            encoder.integer(KeySlot.of(request[2]), into: &out)
        case "SETTOPOLOGY":
            guard request.count == 3 else { throw CommandError(code: "SYNTAX", message: "CLUSTER SETTOPOLOGY needs the map as JSON") }
            do {
                try cluster.install(try ClusterMap.parse(Array(request[2])))
            } catch {
                throw CommandError(code: "TOPOLOGY", message: error.description)
            }
            Log.info("cluster_topology", ["epoch": cluster.map.epoch])
            encoder.status("OK", into: &out)
        default:
            throw CommandError(code: "SYNTAX", message: "CLUSTER takes SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT key, SETTOPOLOGY json or REPLICATING")
        }
    }
}
