import RecCore

/// Runs decoded commands against the current index and encodes the replies.
/// One per event loop thread, with that thread's query scratch: call only
/// from the owning loop.
final class CommandHandler {
    enum Action {
        case keepOpen
        case close
    }

    let config: ServerConfig
    let stats: ServerStats
    var view: IndexView
    let scratch = QueryScratch()
    /// Local counters, merged into `stats` once per batch.
    var commandCounts = [Int](repeating: 0, count: Command.allCases.count)
    var errorCounts = [Int](repeating: 0, count: Command.allCases.count + 1)
    weak var server: ServerInfoSource?

    init(config: ServerConfig, stats: ServerStats, store: IndexStore) {
        self.config = config
        self.stats = stats
        self.view = IndexView(store: store)
    }

    /// Picks up a newly swapped index and publishes counters; once per batch.
    func beginBatch() { view.refresh() }
    func endBatch() { stats.merge(commands: &commandCounts, errors: &errorCounts) }

    func handle(_ args: ArgList, _ bytes: UnsafeBufferPointer<UInt8>, _ encoder: ReplyEncoder,
                _ out: inout [UInt8]) -> Action {
        if args.count == 0 { return .keepOpen }
        let request = Request(args: args, bytes: bytes)
        guard let command = Command.lookup(request[0]) else {
            errorCounts[Command.allCases.count] += 1
            let name = String(decoding: request[0].prefix(64), as: UTF8.self)
            encoder.error("UNKNOWN", "unknown command '\(name)'; HELP lists the commands", into: &out)
            return .keepOpen
        }
        commandCounts[command.rawValue] += 1
        let spec = command.spec
        let given = args.count - 1
        if given < spec.minArgs || (spec.maxArgs >= 0 && given > spec.maxArgs) {
            errorCounts[command.rawValue] += 1
            let e = CommandError.arity(command)
            encoder.error(e.code, e.message, into: &out)
            return .keepOpen
        }
        do {
            return try run(command, request, encoder, &out)
        } catch {
            errorCounts[command.rawValue] += 1
            encoder.error(error.code, error.message, into: &out)
            return .keepOpen
        }
    }

    func run(_ command: Command, _ request: Request, _ encoder: ReplyEncoder,
             _ out: inout [UInt8]) throws(CommandError) -> Action {
        let index = view.index
        switch command {
        case .ping:
            if request.count == 2 { encoder.bulk(request[1], into: &out) } else { encoder.status("PONG", into: &out) }
        case .echo:
            encoder.bulk(request[1], into: &out)
        case .quit:
            encoder.status("OK", into: &out)
            return .close
        case .info:
            stats.merge(commands: &commandCounts, errors: &errorCounts)  // count this batch too
            encoder.text(InfoReport.text(index: index, stats: stats, config: config, server: server), into: &out)
        case .help:
            encoder.text(Command.specs.map { "\($0.syntax) -- \($0.summary)" }.joined(separator: "\r\n"), into: &out)
        case .command:
            encoder.emptyArray(into: &out)
        case .config:
            guard ByteParsing.equalsLowercase(request[1], "get") else {
                throw .syntax("only CONFIG GET name is supported")
            }
            let name = String(decoding: request[2], as: UTF8.self).lowercased()
            // redis-benchmark probes `save` and `appendonly`: no RDB schedule, no AOF.
            guard let value = config.effective[name] ?? ["save": "", "appendonly": "no"][name] else {
                encoder.emptyArray(into: &out)
                return .keepOpen
            }
            encoder.pair(name, value, into: &out)
        case .sim:
            let options = try parseOptions(request, from: 2, index: index, allowSeen: false)
            index.similar(to: index.items.lookup(request[1]), options: options, scratch: scratch)
            encoder.recommendations(scratch.result, names: index.items, into: &out)
        case .rec:
            let options = try parseOptions(request, from: 2, index: index, allowSeen: true)
            index.recommend(user: index.users.lookup(request[1]), options: options, scratch: scratch)
            encoder.recommendations(scratch.result, names: index.items, into: &out)
        case .session:
            let options = try parseOptions(request, from: 2, index: index, allowSeen: true)
            scratch.requestItems.removeAll(keepingCapacity: true)
            forEachListed(request[1]) { item in
                scratch.requestItems.append(index.items.lookup(item) ?? UInt32.max)
            }
            index.recommendSession(options: options, scratch: scratch)
            encoder.recommendations(scratch.result, names: index.items, into: &out)
        case .popular:
            let options = try parseOptions(request, from: 1, index: index, allowSeen: false)
            index.popular(options: options, scratch: scratch)
            encoder.recommendations(scratch.result, names: index.items, into: &out)
        }
        return .keepOpen
    }

    /// Calls `body` with each non-empty comma-separated part of `list`.
    func forEachListed(_ list: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var start = 0
        for i in 0...list.count where i == list.count || list[i] == UInt8(ascii: ",") {
            if i > start { body(list.slice(start, i)) }
            start = i + 1
        }
    }

    /// Parses `name=value` options. Fills `scratch.excludeItems`.
    func parseOptions(_ request: Request, from first: Int, index: RecIndex,
                      allowSeen: Bool) throws(CommandError) -> QueryOptions {
        var options = QueryOptions()
        scratch.excludeItems.removeAll(keepingCapacity: true)
        var i = first
        while i < request.count {
            let token = request[i]
            guard let eq = token.firstIndex(of: UInt8(ascii: "=")) else {
                throw .syntax("expected name=value, got '\(Request.show(token))'")
            }
            let name = token.slice(0, eq), value = token.slice(eq + 1, token.count)
            if ByteParsing.equalsLowercase(name, "k") {
                guard let k = ByteParsing.parseInt(value), k >= 1, k <= config.maxK else {
                    throw .syntax("k must be an integer from 1 to \(config.maxK) (max-k), got '\(Request.show(value))'")
                }
                options.k = Int(k)
            } else if ByteParsing.equalsLowercase(name, "category") {
                if let c = index.catalog.categories.lookup(value) { options.category = .only(c) } else { options.category = .unknown }
            } else if ByteParsing.equalsLowercase(name, "instock") {
                guard let v = SnapshotLoader.parseBool(value) else {
                    throw .syntax("instock must be 1 or 0, got '\(Request.show(value))'")
                }
                options.inStockOnly = v
            } else if ByteParsing.equalsLowercase(name, "exclude") {
                forEachListed(value) { item in
                    if let id = index.items.lookup(item) { scratch.excludeItems.append(id) }
                }
            } else if allowSeen && ByteParsing.equalsLowercase(name, "seen") {
                if ByteParsing.equalsLowercase(value, "exclude") {
                    options.seen = .exclude
                } else if ByteParsing.equalsLowercase(value, "include") {
                    options.seen = .include
                } else {
                    throw .syntax("seen must be exclude or include, got '\(Request.show(value))'")
                }
            } else {
                let allowed = allowSeen ? "k, category, instock, exclude, seen" : "k, category, instock, exclude"
                throw .syntax("unknown option '\(Request.show(name))' (options: \(allowed))")
            }
            i += 1
        }
        return options
    }
}

/// Read access to one command's arguments inside the input buffer.
struct Request {
    let args: ArgList
    let bytes: UnsafeBufferPointer<UInt8>

    var count: Int { args.count }

    subscript(i: Int) -> UnsafeBufferPointer<UInt8> { bytes.slice(args.starts[i], args.ends[i]) }

    /// An argument quoted in an error message, cut short and made printable.
    static func show(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let s = String(decoding: bytes.prefix(64), as: UTF8.self)
        return String(s.map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 })
            + (bytes.count > 64 ? "..." : "")
    }
}
