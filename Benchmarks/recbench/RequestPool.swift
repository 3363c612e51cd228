import RecCore

/// Ready-encoded requests over real ids from a snapshot, drawn once with a
/// fixed seed, so the send path only copies bytes.
struct RequestPool {
    enum Kind: Int, CaseIterable {
        /// `zrevrange` is Redis's side of the comparison: `ZREVRANGE sim:<item>
        /// 0 k-1 WITHSCORES` against the sorted sets `recbench redis-zsets` loads,
        /// so the same open-loop test can be run against Redis on the same box.
        /// `event`: `EVENT <user> <item> view|cart|purchase`, undated, so a
        /// write load (with its log appends and fsyncs) can be measured.
        case sim, rec, session, popular, zrevrange, event

        var name: String { ["SIM", "REC", "SESSION", "POPULAR", "ZREVRANGE", "EVENT"][rawValue] }
    }

    /// Encoded requests per kind.
    var requests: [[[UInt8]]] = Array(repeating: [], count: Kind.allCases.count)
    /// Kinds laid out by the mix's weights over 100 slots.
    var schedule: [Kind] = []

    init(snapshot: Snapshot, mix: [(Kind, Int)], k: Int, resp: Bool, size: Int = 4096, seed: UInt64 = 7) {
        var rng = SplitMix64(seed: seed)
        let users = snapshot.events.users, items = snapshot.events.items
        func item() -> String { items.name(UInt32(rng.next() % UInt64(items.count))) }
        for kind in Kind.allCases where mix.contains(where: { $0.0 == kind }) {
            for _ in 0..<size {
                let args: [String]
                switch kind {
                case .sim: args = ["SIM", item(), "k=\(k)"]
                case .rec: args = ["REC", users.name(UInt32(rng.next() % UInt64(users.count))), "k=\(k)"]
                case .session: args = ["SESSION", [item(), item(), item()].joined(separator: ","), "k=\(k)"]
                case .popular: args = ["POPULAR", "k=\(k)"]
                case .zrevrange: args = ["ZREVRANGE", "sim:" + item(), "0", String(k - 1), "WITHSCORES"]
                case .event:
                    args = ["EVENT", users.name(UInt32(rng.next() % UInt64(users.count))), item(), ["view", "cart", "purchase"][Int(rng.next() % 3)]]
                }
                requests[kind.rawValue].append(RequestPool.encode(args, resp: resp))
            }
        }
        let total = mix.reduce(0) { $0 + $1.1 }
        for (kind, weight) in mix {
            for _ in 0..<max(1, weight * 100 / max(1, total)) { schedule.append(kind) }
        }
        // Interleave rather than run kinds in blocks.
        for i in stride(from: schedule.count - 1, to: 0, by: -1) {
            schedule.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
    }

    static func encode(_ args: [String], resp: Bool) -> [UInt8] {
        if !resp { return Array((args.joined(separator: " ") + "\n").utf8) }
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.utf8.count)\r\n\(a)\r\n".utf8) }
        return out
    }

    /// Parses `sim:40,rec:50,session:10`.
    static func parseMix(_ text: String) -> [(Kind, Int)]? {
        var mix: [(Kind, Int)] = []
        for part in text.split(separator: ",") {
            let kv = part.split(separator: ":")
            guard kv.count == 2, let w = Int(kv[1]), w > 0,
                  let kind = Kind.allCases.first(where: { $0.name.lowercased() == kv[0].lowercased() }) else { return nil }
            mix.append((kind, w))
        }
        return mix.isEmpty ? nil : mix
    }
}
