/// Every command, declared once: dispatch, arity checks, `HELP` and the
/// README's reference all come from this table.
public enum Command: Int, CaseIterable, Sendable {
    case ping, echo, quit, info, help, sim, rec, session, popular, command, config
    case event, item, forget, due, reload, save, auth, vsim, vrec, alias, segment, lookalike, audience, variant, experiment

    public struct Spec: Sendable {
        public let name: String
        /// Arguments after the command name, at least and at most (-1: any).
        public let minArgs: Int
        public let maxArgs: Int
        public let syntax: String
        public let summary: String
    }

    public var spec: Spec { Command.specs[rawValue] }

    public static let filterSyntax = "[k=N] [category=C] [instock=1] [exclude=a,b,...]"

    public static let specs: [Spec] = [
        Spec(name: "PING", minArgs: 0, maxArgs: 1, syntax: "PING [message]", summary: "liveness check; replies PONG or the message"),
        Spec(name: "ECHO", minArgs: 1, maxArgs: 1, syntax: "ECHO message", summary: "replies the message"),
        Spec(name: "QUIT", minArgs: 0, maxArgs: 0, syntax: "QUIT", summary: "replies OK and closes the connection"),
        Spec(name: "INFO", minArgs: 0, maxArgs: 1, syntax: "INFO [section]", summary: "server, index and client figures"),
        Spec(name: "HELP", minArgs: 0, maxArgs: 0, syntax: "HELP", summary: "lists the commands"),
        Spec(name: "SIM", minArgs: 1, maxArgs: -1, syntax: "SIM item \(filterSyntax)",
             summary: "items most similar to the item (customers who bought X also bought)"),
        Spec(name: "REC", minArgs: 1, maxArgs: -1, syntax: "REC user \(filterSyntax) [seen=exclude|include] [due=1] [mode=cf|vec|hybrid] [exp=NAME]",
             summary: "personal picks from the user's weighted, time-decayed history"),
        Spec(name: "SESSION", minArgs: 1, maxArgs: -1, syntax: "SESSION item,item,... \(filterSyntax) [seen=exclude|include]",
             summary: "picks for an anonymous visit from the items it touched, later ones weighing more"),
        Spec(name: "POPULAR", minArgs: 0, maxArgs: -1, syntax: "POPULAR \(filterSyntax)",
             summary: "trending items by time-decayed popularity"),
        Spec(name: "COMMAND", minArgs: 0, maxArgs: -1, syntax: "COMMAND [...]",
             summary: "empty reply, so redis-cli's start-up probe succeeds"),
        Spec(name: "CONFIG", minArgs: 2, maxArgs: 2, syntax: "CONFIG GET name",
             summary: "[name, value] of a setting; Redis's save and appendonly answer as recd has them"),
        Spec(name: "EVENT", minArgs: 3, maxArgs: 6, syntax: "EVENT user item view|cart|purchase [ts=T] [qty=N] [exp=NAME]",
             summary: "records what a visitor did; logged before the reply, the next REC sees it"),
        Spec(name: "ITEM", minArgs: 2, maxArgs: 5, syntax: "ITEM item [instock=0|1] [category=C] [price=P] [title=T]",
             summary: "catalog change, visible to filters at once; a new id adds the item"),
        Spec(name: "FORGET", minArgs: 1, maxArgs: 1, syntax: "FORGET user",
             summary: "removes the user's history from memory and their events from the event log"),
        Spec(name: "DUE", minArgs: 1, maxArgs: -1, syntax: "DUE user \(filterSyntax) [now=T]",
             summary: "items the user buys again whose usual interval has passed, most overdue first, with days overdue"),
        Spec(name: "RELOAD", minArgs: 0, maxArgs: 2, syntax: "RELOAD [dir] [async]",
             summary: "rebuilds from a snapshot while serving, then swaps; live events since the snapshot stay"),
        Spec(name: "SAVE", minArgs: 0, maxArgs: 0, syntax: "SAVE",
             summary: "writes the current state as a new snapshot in data-dir and empties the event log"),
        Spec(name: "AUTH", minArgs: 1, maxArgs: 2, syntax: "AUTH [default] password",
             summary: "unlocks the connection when requirepass is set"),
        Spec(name: "VSIM", minArgs: 1, maxArgs: -1, syntax: "VSIM item \(filterSyntax)",
             summary: "items whose vectors are nearest the item's (looks alike; works for items nobody bought yet)"),
        Spec(name: "VREC", minArgs: 1, maxArgs: -1, syntax: "VREC v1,v2,...,vd \(filterSyntax)",
             summary: "items nearest a query vector, e.g. from a text model"),
        Spec(name: "ALIAS", minArgs: 2, maxArgs: 2, syntax: "ALIAS from to",
             summary: "identity stitching: visitor `from` is member `to`; histories merge, later events of `from` go to `to`"),
        Spec(name: "SEGMENT", minArgs: 1, maxArgs: 1, syntax: "SEGMENT user | SEGMENT COUNT",
             summary: "the user's RFM scores (1-5) and segment; COUNT: buyers per segment"),
        Spec(name: "LOOKALIKE", minArgs: 1, maxArgs: 2, syntax: "LOOKALIKE user|segment [k=100]",
             summary: "users most like a user, or like a segment's centroid, by their histories; seeds left out"),
        Spec(name: "AUDIENCE", minArgs: 1, maxArgs: 3, syntax: "AUDIENCE item [k=100] [since=days]",
             summary: "users who viewed or carted the item without buying it, most recent first, scored in days ago"),
        Spec(name: "VARIANT", minArgs: 2, maxArgs: 2, syntax: "VARIANT user experiment",
             summary: "the user's stable variant of an experiment from config"),
        Spec(name: "EXPERIMENT", minArgs: 1, maxArgs: 1, syntax: "EXPERIMENT name",
             summary: "requests (REC exp=), clicks and purchases (EVENT exp=) per variant since start"),
    ]

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
