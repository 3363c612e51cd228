import Foundation

/// Which node serves which slots: the operator's map (`cluster-config`,
/// `CLUSTER SETTOPOLOGY`), versioned by an epoch that only grows.
///
/// JSON: `{"epoch": N, "shards": [{"slots": [[from, to], ...],
/// "primary": "host:port", "replicas": ["host:port", ...]}, ...]}`.
public struct ClusterMap: Sendable, Equatable {
    public struct Shard: Sendable, Equatable {
        public var slots: [ClosedRange<Int>]
        public var primary: String
        public var replicas: [String]
    }

    public var epoch: Int
    public var shards: [Shard]
    /// Per slot, the index of the shard that owns it (-1: unassigned).
    public let owner: [Int16]

    public init(epoch: Int, shards: [Shard]) throws(ClusterMapError) {
        var owner = [Int16](repeating: -1, count: KeySlot.count)
        for (n, shard) in shards.enumerated() {
            guard Self.isAddress(shard.primary) else { throw .invalid("shard \(n + 1): primary '\(shard.primary)' is not host:port") }
            for r in shard.replicas where !Self.isAddress(r) { throw .invalid("shard \(n + 1): replica '\(r)' is not host:port") }
            for range in shard.slots {
                guard range.lowerBound >= 0, range.upperBound < KeySlot.count else {
                    throw .invalid("shard \(n + 1): slots \(range.lowerBound)-\(range.upperBound) outside 0-16383")
                }
                for s in range {
                    guard owner[s] < 0 else { throw .invalid("slot \(s) is in shard \(owner[s] + 1) and shard \(n + 1)") }
                    owner[s] = Int16(n)
                }
            }
        }
        guard epoch >= 0 else { throw .invalid("epoch must be 0 or more") }
        self.epoch = epoch
        self.shards = shards
        self.owner = owner
    }

    static func isAddress(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return false }
        return colon > text.startIndex && (1...65535).contains(port)
    }

    public static func parse(_ json: [UInt8]) throws(ClusterMapError) -> ClusterMap {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)), let top = object as? [String: Any] else {
            throw .invalid("not a JSON object")
        }
        guard let epoch = top["epoch"] as? Int else { throw .invalid("\"epoch\" must be a whole number") }
        guard let list = top["shards"] as? [[String: Any]] else { throw .invalid("\"shards\" must be a list of objects") }
        var shards: [Shard] = []
        for (n, s) in list.enumerated() {
            guard let primary = s["primary"] as? String else { throw .invalid("shard \(n + 1): \"primary\" must be \"host:port\"") }
            let replicas = (s["replicas"] as? [String]) ?? []
            guard let pairs = s["slots"] as? [[Int]], pairs.allSatisfy({ $0.count == 2 && $0[0] <= $0[1] }) else {
                throw .invalid("shard \(n + 1): \"slots\" must be a list of [from, to] pairs")
            }
            shards.append(Shard(slots: pairs.map { $0[0]...$0[1] }, primary: primary, replicas: replicas))
        }
        return try ClusterMap(epoch: epoch, shards: shards)
    }

    public var json: String {
        let shardText = shards.map { s in
            let slots = s.slots.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
            let replicas = s.replicas.map { "\"\($0)\"" }.joined(separator: ", ")
            return "{\"slots\": [\(slots)], \"primary\": \"\(s.primary)\", \"replicas\": [\(replicas)]}"
        }.joined(separator: ", ")
        return "{\"epoch\": \(epoch), \"shards\": [\(shardText)]}"
    }

    public func shard(ofSlot slot: Int) -> Shard? {
        let n = Int(owner[slot])
        return n >= 0 ? shards[n] : nil
    }

    /// Every node the map names, primaries first, once each.
    public var nodes: [String] {
        var seen = Set<String>(), out: [String] = []
        for s in shards where seen.insert(s.primary).inserted { out.append(s.primary) }
        for s in shards { for r in s.replicas where seen.insert(r).inserted { out.append(r) } }
        return out
    }

    /// A node's id as Redis shows them (40 hex digits), derived from its
    /// address so that every node names every other the same way.
    public static func nodeID(_ address: String) -> String {
        var out = ""
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for round in 0..<3 {
            for b in address.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            h = (h ^ UInt64(round + 1)) &* 0x100_0000_01B3
            let hex = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return String(out.prefix(40))
    }

    public static func split(_ address: String) -> (host: String, port: Int) {
        let colon = address.lastIndex(of: ":")!
        return (String(address[..<colon]), Int(address[address.index(after: colon)...]) ?? 0)
    }
}

public enum ClusterMapError: Error, CustomStringConvertible {
    case invalid(String)
    case staleEpoch(given: Int, current: Int)

    public var description: String {
        switch self {
        case .invalid(let m): "cluster map: \(m)"
        case .staleEpoch(let g, let c): "cluster map epoch \(g) is not newer than this node's \(c); send a higher epoch"
        }
    }
}
