/// Every command, declared once: dispatch, arity checks, `HELP`, `COMMAND`
/// (`INFO`, `DOCS`, `COUNT`, `LIST`: what redis-cli's help and hints and
/// cluster clients read) and the README's reference all come from this table.
public enum Command: Int, CaseIterable, Sendable {
    case ping, echo, quit, info, help, sim, rec, session, popular, command, config
    case event, item, forget, due, reload, save, auth, vsim, vrec, alias, segment, lookalike, audience, variant, experiment
    case hello, client, select, reset, time, multi, exec, discard, watch, unwatch, bgsave
    case vlike, vcard, vdim, vemb, vinfo, vismember, vgetattr
    case cluster, readonly, readwrite, asking

    public struct Spec: Sendable {
        public let name: String
        /// Arguments after the command name, at least and at most (-1: any).
        public let minArgs: Int
        public let maxArgs: Int
        public let syntax: String
        public let summary: String
        /// `COMMAND DOCS`' group (redis-cli's `help @group`).
        public let group: String
        /// Redis's command flags (`COMMAND INFO`): readonly or write, fast,
        /// admin, noauth, no_multi (refused inside MULTI), loading, stale.
        public let flags: [String]
        /// Position of the key (the user or item the command is about), 0 for
        /// none: `COMMAND`'s key specs, so cluster clients route by it.
        public let key: Int
        /// The options the command takes (`k=`, `category=`, ... `WITHMETA`).
        public let options: [CommandOption]
        let optionMask: UInt32

        /// `syntax`: the arguments before the options, e.g. `SIM item`; the
        /// options' syntax is appended.
        init(name: String, minArgs: Int, maxArgs: Int, syntax: String, options: [CommandOption] = [], summary: String,
             group: String = "recommend", flags: [String] = ["readonly", "fast"], key: Int = 0) {
            self.name = name
            self.minArgs = minArgs
            self.maxArgs = maxArgs
            self.syntax = ([syntax] + options.map(\.syntax)).joined(separator: " ")
            self.summary = summary
            self.group = group
            self.flags = flags
            self.key = key
            self.options = options
            self.optionMask = options.reduce(0) { $0 | $1.bit }
        }

        public func takes(_ option: CommandOption) -> Bool { optionMask & option.bit != 0 }

        /// "k, category, ..." for errors about an option the command does not take.
        public var optionList: String { options.map(\.name).joined(separator: ", ") }
    }

    public var spec: Spec { Command.specs[rawValue] }

    public static let specs: [Spec] = [
        Spec(name: "PING", minArgs: 0, maxArgs: 1, syntax: "PING [message]", summary: "liveness check; replies PONG or the message",
             group: "connection", flags: ["fast", "stale"]),
        Spec(name: "ECHO", minArgs: 1, maxArgs: 1, syntax: "ECHO message", summary: "replies the message",
             group: "connection", flags: ["fast", "stale"]),
        Spec(name: "QUIT", minArgs: 0, maxArgs: 0, syntax: "QUIT", summary: "replies OK and closes the connection",
             group: "connection", flags: ["noauth", "fast", "stale"]),
        Spec(name: "INFO", minArgs: 0, maxArgs: -1, syntax: "INFO [section ...]", summary: "server, index and client figures",
             group: "server", flags: ["stale"]),
        Spec(name: "HELP", minArgs: 0, maxArgs: 0, syntax: "HELP", summary: "lists the commands", group: "server", flags: ["stale"]),
        Spec(name: "SIM", minArgs: 1, maxArgs: -1, syntax: "SIM item", options: CommandOption.filters,
             summary: "items most similar to the item (customers who bought X also bought)", key: 1),
        Spec(name: "REC", minArgs: 1, maxArgs: -1, syntax: "REC user",
             options: CommandOption.filters + [.seen, .due, .mode, .exp],
             summary: "personal picks from the user's weighted, time-decayed history", key: 1),
        Spec(name: "SESSION", minArgs: 1, maxArgs: -1, syntax: "SESSION item,item,...", options: CommandOption.filters + [.seen],
             summary: "picks for an anonymous visit from the items it touched, later ones weighing more"),
        Spec(name: "POPULAR", minArgs: 0, maxArgs: -1, syntax: "POPULAR", options: CommandOption.filters,
             summary: "trending items by time-decayed popularity"),
        Spec(name: "COMMAND", minArgs: 0, maxArgs: -1, syntax: "COMMAND [COUNT | LIST | INFO name ... | DOCS name ... | GETKEYS command arg ...]",
             summary: "the command table, as Redis describes its own: arity, flags, key positions, documentation",
             group: "server", flags: ["stale", "loading"]),
        Spec(name: "CONFIG", minArgs: 1, maxArgs: -1, syntax: "CONFIG GET pattern ... | CONFIG SET name value ...",
             summary: "settings by name or glob (save, appendonly and databases answer as recd has them); SET changes those that can change at run time",
             group: "server", flags: ["admin", "stale"]),
        Spec(name: "EVENT", minArgs: 3, maxArgs: 6, syntax: "EVENT user item view|cart|purchase", options: [.ts, .qty, .exp],
             summary: "records what a visitor did; logged before the reply, the next REC sees it",
             group: "live", flags: ["write", "fast"], key: 1),
        Spec(name: "ITEM", minArgs: 2, maxArgs: 5, syntax: "ITEM item", options: [.instock, .category, .price, .title],
             summary: "catalog change, visible to filters at once; a new id adds the item", group: "live", flags: ["write"]),
        Spec(name: "FORGET", minArgs: 1, maxArgs: 1, syntax: "FORGET user",
             summary: "removes the user's history from memory, their events from the event log, and keeps them out of every snapshot loaded later",
             group: "live", flags: ["write", "no_multi"], key: 1),
        Spec(name: "DUE", minArgs: 1, maxArgs: -1, syntax: "DUE user", options: CommandOption.filters + [.now],
             summary: "items the user buys again whose usual interval has passed, most overdue first, with days overdue", key: 1),
        Spec(name: "RELOAD", minArgs: 0, maxArgs: 2, syntax: "RELOAD [dir] [async]",
             summary: "rebuilds from a snapshot while serving, then swaps; live events since the snapshot stay",
             group: "server", flags: ["admin", "no_multi"]),
        Spec(name: "SAVE", minArgs: 0, maxArgs: 0, syntax: "SAVE",
             summary: "writes the current state as a new snapshot in data-dir and empties the event log; replies OK when done",
             group: "server", flags: ["admin", "no_multi"]),
        Spec(name: "AUTH", minArgs: 1, maxArgs: 2, syntax: "AUTH [default] password",
             summary: "unlocks the connection when requirepass is set", group: "connection", flags: ["noauth", "fast", "stale"]),
        Spec(name: "VSIM", minArgs: 1, maxArgs: -1,
             syntax: "VSIM items ELE item|VALUES n v1 ... vn|FP32 blob [WITHSCORES] [WITHATTRIBS] [COUNT n] [EF n] [EPSILON d] [FILTER expr] [FILTER-EF n] [TRUTH] [NOTHREAD]",
             summary: "items nearest an item's vector or a given vector: Redis 8's vector-set read over the set 'items' (FILTER on .category, .price, .instock, .title)",
             group: "vector", key: 1),
        Spec(name: "VREC", minArgs: 1, maxArgs: -1, syntax: "VREC v1,v2,...,vd", options: CommandOption.filters + [.ef],
             summary: "items nearest a query vector, e.g. from a text model", group: "vector"),
        Spec(name: "ALIAS", minArgs: 2, maxArgs: 2, syntax: "ALIAS from to",
             summary: "identity stitching: visitor `from` is member `to`; histories merge, later events of `from` go to `to`",
             group: "live", flags: ["write"], key: 1),
        Spec(name: "SEGMENT", minArgs: 1, maxArgs: 1, syntax: "SEGMENT user | SEGMENT COUNT",
             summary: "the user's RFM scores (1-5) and segment; COUNT: buyers per segment", group: "marketing", key: 1),
        Spec(name: "LOOKALIKE", minArgs: 1, maxArgs: 3, syntax: "LOOKALIKE user|segment", options: [.k, .withMeta],
             summary: "users most like a user, or like a segment's centroid, by their histories; seeds left out",
             group: "marketing", flags: ["readonly"], key: 1),
        Spec(name: "AUDIENCE", minArgs: 1, maxArgs: 4, syntax: "AUDIENCE item", options: [.k, .since, .withMeta],
             summary: "users who viewed or carted the item without buying it, most recent first, scored in days ago",
             group: "marketing", flags: ["readonly"], key: 1),
        Spec(name: "VARIANT", minArgs: 2, maxArgs: 2, syntax: "VARIANT user experiment",
             summary: "the user's stable variant of an experiment from config", group: "marketing", key: 1),
        Spec(name: "EXPERIMENT", minArgs: 1, maxArgs: 1, syntax: "EXPERIMENT name",
             summary: "requests (REC exp=), clicks and purchases (EVENT exp=) per variant since start", group: "marketing"),
        Spec(name: "HELLO", minArgs: 0, maxArgs: 6, syntax: "HELLO [2|3] [AUTH username password] [SETNAME name]",
             summary: "picks the protocol (RESP2 or RESP3), optionally authenticates and names the connection; replies the server's map",
             group: "connection", flags: ["noauth", "fast", "stale", "loading"]),
        Spec(name: "CLIENT", minArgs: 1, maxArgs: -1,
             syntax: "CLIENT SETNAME name | GETNAME | SETINFO LIB-NAME|LIB-VER value | ID | INFO | LIST [ID id ...] | KILL addr | KILL ID id",
             summary: "the connection's name and library, its id, the list of connections, closing one", group: "connection",
             flags: ["stale", "loading"]),
        Spec(name: "SELECT", minArgs: 1, maxArgs: 1, syntax: "SELECT 0",
             summary: "recd has one database, 0; other numbers are an error", group: "connection", flags: ["fast", "stale"]),
        Spec(name: "RESET", minArgs: 0, maxArgs: 0, syntax: "RESET",
             summary: "back to a new connection's state: RESP2, no name, no transaction, not authenticated if a password is set",
             group: "connection", flags: ["noauth", "fast", "stale"]),
        Spec(name: "TIME", minArgs: 0, maxArgs: 0, syntax: "TIME", summary: "the server's clock: Unix seconds and microseconds",
             group: "server", flags: ["fast", "stale"]),
        Spec(name: "MULTI", minArgs: 0, maxArgs: 0, syntax: "MULTI",
             summary: "starts a transaction: later commands are queued until EXEC (RESP only)", group: "transactions",
             flags: ["fast", "no_multi"]),
        Spec(name: "EXEC", minArgs: 0, maxArgs: 0, syntax: "EXEC",
             summary: "runs the queued commands in order, back to back, and replies with their replies", group: "transactions",
             flags: ["no_multi"]),
        Spec(name: "DISCARD", minArgs: 0, maxArgs: 0, syntax: "DISCARD", summary: "drops the queued commands",
             group: "transactions", flags: ["fast", "no_multi"]),
        Spec(name: "WATCH", minArgs: 1, maxArgs: -1, syntax: "WATCH key ...",
             summary: "not supported: an error (recd's state is per user, not per key)", group: "transactions", flags: ["fast", "no_multi"]),
        Spec(name: "UNWATCH", minArgs: 0, maxArgs: 0, syntax: "UNWATCH", summary: "nothing is watched: replies OK",
             group: "transactions", flags: ["fast"]),
        Spec(name: "BGSAVE", minArgs: 0, maxArgs: 1, syntax: "BGSAVE [SCHEDULE]",
             summary: "starts a SAVE in the background; INFO shows its outcome", group: "server", flags: ["admin"]),
        Spec(name: "VLIKE", minArgs: 1, maxArgs: -1, syntax: "VLIKE item", options: CommandOption.filters + [.ef],
             summary: "items whose vectors are nearest the item's (looks alike; works for items nobody bought yet), with recd's filters and fallback",
             group: "vector", key: 1),
        Spec(name: "VCARD", minArgs: 1, maxArgs: 1, syntax: "VCARD items", summary: "how many items have a vector",
             group: "vector", key: 1),
        Spec(name: "VDIM", minArgs: 1, maxArgs: 1, syntax: "VDIM items", summary: "the vectors' dimension", group: "vector", key: 1),
        Spec(name: "VEMB", minArgs: 2, maxArgs: 2, syntax: "VEMB items item", summary: "the item's vector (normalised to length 1)",
             group: "vector", key: 1),
        Spec(name: "VINFO", minArgs: 1, maxArgs: 1, syntax: "VINFO items", summary: "the vector set's type, dimension, size and graph",
             group: "vector", key: 1),
        Spec(name: "VISMEMBER", minArgs: 2, maxArgs: 2, syntax: "VISMEMBER items item", summary: "1 when the item has a vector, else 0",
             group: "vector", key: 1),
        Spec(name: "VGETATTR", minArgs: 2, maxArgs: 2, syntax: "VGETATTR items item",
             summary: "the item's catalog fields as JSON attributes: category, price, instock, title", group: "vector", key: 1),
        Spec(name: "CLUSTER", minArgs: 1, maxArgs: 2,
             syntax: "CLUSTER SLOTS | SHARDS | NODES | INFO | MYID | KEYSLOT key | SETTOPOLOGY json",
             summary: "the cluster map as Redis Cluster clients read it; SETTOPOLOGY installs a map with a higher epoch",
             group: "cluster", flags: ["stale", "loading"]),
        Spec(name: "READONLY", minArgs: 0, maxArgs: 0, syntax: "READONLY",
             summary: "this connection reads per-user data from a replica of its slots", group: "cluster", flags: ["fast", "stale"]),
        Spec(name: "READWRITE", minArgs: 0, maxArgs: 0, syntax: "READWRITE",
             summary: "ends READONLY", group: "cluster", flags: ["fast", "stale"]),
        Spec(name: "ASKING", minArgs: 0, maxArgs: 0, syntax: "ASKING",
             summary: "accepted for cluster clients; recd moves no slots while serving", group: "cluster", flags: ["fast", "stale"]),
    ]

    /// Commands about one user: in a cluster they run on the primary of the
    /// user's slot (reads also on its replicas, after READONLY).
    public var isPerUser: Bool {
        switch self {
        case .rec, .event, .forget, .due, .segment, .variant, .alias, .lookalike: true
        default: false
        }
    }

    /// Case-insensitive lookup of a command name given as bytes.
    /// - Complexity: O(commands); no allocation.
    public static func lookup(_ name: UnsafeBufferPointer<UInt8>) -> Command? {
        for command in Command.allCases {
            let spec = specs[command.rawValue]
            if spec.name.utf8.count != name.count { continue }
            var match = true
            var i = 0
            for c in spec.name.utf8 {
                var b = name[i]
                if b >= 0x61 && b <= 0x7A { b -= 0x20 }  // to upper case
                if b != c { match = false; break }
                i += 1
            }
            if match { return command }
        }
        return nil
    }
}
