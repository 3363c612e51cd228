import Foundation
import RecCore

/// Runs decoded commands against the current index and encodes the replies.
/// One per event loop thread, with that thread's query scratch: call only
/// from the owning loop.
final class CommandHandler {
    enum Action {
        case keepOpen
        case close
        /// The reply comes from `work`, run off the loop (RELOAD, SAVE).
        case deferred(@Sendable () -> Result<String, CommandError>)
        /// The whole encoded reply comes from `work`, run off the loop (the
        /// cluster-wide answers, which wait for other nodes).
        case deferredReply(@Sendable () -> [UInt8])
    }

    /// The settings now in force: a copy of `runtime`'s, refreshed when its
    /// generation moves (CONFIG SET).
    private(set) var config: ServerConfig
    let runtime: RuntimeConfig
    private var configGeneration = 0
    let clients: ClientRegistry
    let stats: ServerStats
    var view: IndexView
    let scratch = QueryScratch()
    /// Local counters, merged into `stats` once per batch.
    var commandCounts = [Int](repeating: 0, count: Command.allCases.count)
    var errorCounts = [Int](repeating: 0, count: Command.allCases.count + 1)
    weak var server: ServerInfoSource?
    /// Service time per command on this loop; merged into `stats` about once a second.
    var latency = [LatencyHistogram](repeating: LatencyHistogram(), count: Command.allCases.count)
    var lastLatencyMerge: UInt64 = 0

    let live: LiveService?
    /// The cluster map and this node's place in it; nil when standalone.
    let cluster: ClusterState?
    /// The current command came over a primary's replication link.
    var replicating = false
    /// The cluster this request's change or question is passed on to: nil
    /// when standalone, and for a request that came from another node
    /// (which passes it on itself).
    var passOn: ClusterState? { replicating ? nil : cluster }
    /// This request came over a primary's catch-up link (`ClientState.catchingUp`).
    var catchingUp = false
    /// The log ticket of the latest write (EVENT, ITEM, ALIAS): the loop
    /// holds the connection's replies until the log has it on disk, then
    /// clears it.
    var logTicket: UInt64 = 0
    /// What the latest writes' replies wait for from the replicas (the
    /// loop takes them, as `logTicket`).
    var replicaWaits: [ClusterState.ReplicaWait] = []
    /// The current command asked for `WITHMETA`.
    var wantsMeta = false
    /// Recommendation replies that came (partly) from the fallback, and
    /// about an unknown user or item; merged into `stats` once per batch.
    var fallbackReplies = 0
    var unknownReplies = 0

    init(runtime: RuntimeConfig, stats: ServerStats, store: IndexStore, live: LiveService? = nil,
         clients: ClientRegistry = ClientRegistry(), cluster: ClusterState? = nil) {
        self.cluster = cluster
        self.runtime = runtime
        self.config = runtime.current
        self.configGeneration = runtime.generation.load(ordering: .acquiring)
        self.clients = clients
        self.stats = stats
        self.view = IndexView(store: store)
        self.live = live
    }

    /// Whether counts are still waiting for a free lock (the loop then wakes
    /// again within a millisecond to publish them).
    private(set) var statsPending = false

    /// Publishes counters; once per batch. (The index view is refreshed per
    /// command in `run`, so a swap is seen by the very next command.)
    func endBatch() {
        if fallbackReplies + unknownReplies > 0 {
            stats.fallbackReplies.add(fallbackReplies, ordering: .relaxed)
            stats.unknownSubjectReplies.add(unknownReplies, ordering: .relaxed)
            fallbackReplies = 0
            unknownReplies = 0
        }
        statsPending = !stats.merge(commands: &commandCounts, errors: &errorCounts, wait: false)
        let now = MonotonicClock.nanoseconds()
        if now - lastLatencyMerge >= 1_000_000_000 {
            if stats.merge(latencies: &latency, wait: false) { lastLatencyMerge = now } else { statsPending = true }
        }
    }

    func handle(_ args: ArgList, _ bytes: UnsafeBufferPointer<UInt8>, _ encoder: ReplyEncoder,
                _ out: inout [UInt8], client: inout ClientState) -> Action {
        if args.count == 0 { return .keepOpen }
        let generation = runtime.generation.load(ordering: .relaxed)
        if generation != configGeneration {
            config = runtime.current
            configGeneration = generation
        }
        let request = Request(args: args, bytes: bytes)
        let named = Command.lookup(request[0])
        if !client.authenticated, named != .auth, named != .quit, named != .hello, named != .reset {
            errorCounts[Command.allCases.count] += named == nil ? 1 : 0
            if let named { errorCounts[named.rawValue] += 1 }
            encoder.redisError("NOAUTH", "Authentication required; send AUTH <password>", into: &out)
            return .keepOpen
        }
        if named == .auth && (args.count == 2 || args.count == 3) && client.queued == nil {
            return auth(request, encoder, &out, &client.authenticated)
        }
        guard let command = named else {
            errorCounts[Command.allCases.count] += 1
            if client.queued != nil { client.transactionFailed = true }
            let name = String(decoding: request[0].prefix(64), as: UTF8.self)
            encoder.error("UNKNOWN", "unknown command '\(name)'; HELP lists the commands", into: &out)
            return .keepOpen
        }
        commandCounts[command.rawValue] += 1
        let spec = command.spec
        let given = args.count - 1
        // A line's words are its arguments, so `PING hello world` on a
        // terminal means the message "hello world"; RESP keeps Redis's arity.
        let restOfLine = encoder.dialect == .line && (command == .ping || command == .echo) && given >= 1
        if !restOfLine && (given < spec.minArgs || (spec.maxArgs >= 0 && given > spec.maxArgs)) {
            errorCounts[command.rawValue] += 1
            if client.queued != nil { client.transactionFailed = true }
            let e = CommandError.arity(command)
            encoder.error(e.code, e.message, into: &out)
            return .keepOpen
        }
        if let cluster, command.isPerUser, !client.replicationLink, !redirected(command, request, cluster, encoder, &out, &client) {
            return .keepOpen
        }
        replicating = client.replicationLink
        catchingUp = client.catchingUp
        if client.queued != nil, let action = queue(command, request, encoder, &out, &client) { return action }
        client.record.lastCommand.store(command.rawValue, ordering: .relaxed)
        wantsMeta = false
        let start = MonotonicClock.nanoseconds()
        defer {
            let spent = MonotonicClock.nanoseconds() - start
            latency[command.rawValue].record(spent)
            if config.slowLogMicros >= 0 && spent >= UInt64(config.slowLogMicros) * 1000 {
                Log.info("slow_command", ["command": spec.name, "us": Int(spent / 1000), "args": args.count - 1])
            }
        }
        do {
            switch command {
            case .hello, .client, .select, .reset, .multi, .exec, .discard, .watch, .unwatch:
                return try runSession(command, request, encoder, &out, &client)
            case .cluster, .readonly, .readwrite, .asking:
                return try runCluster(command, request, encoder, &out, &client)
            default:
                return try run(command, request, encoder, &out)
            }
        } catch {
            errorCounts[command.rawValue] += 1
            encoder.error(error.code, error.message, into: &out)
            return .keepOpen
        }
    }

    func run(_ command: Command, _ request: Request, _ encoder: ReplyEncoder,
             _ out: inout [UInt8]) throws(CommandError) -> Action {
        // One atomic load: a write earlier in this batch (ITEM, RELOAD) must
        // be visible to the next command, pipelined or not.
        view.refresh()
        let index = view.index
        switch command {
        case .ping where request.count == 2, .echo where request.count == 2:
            encoder.bulk(request[1], into: &out)
        case .ping where request.count > 2, .echo:
            request.joined(from: 1).withUnsafeBufferPointer { encoder.bulk($0, into: &out) }
        case .ping:
            encoder.status("PONG", into: &out)
        case .quit:
            encoder.status("OK", into: &out)
            return .close
        case .info:
            stats.merge(commands: &commandCounts, errors: &errorCounts, wait: true)  // count this batch too
            stats.merge(latencies: &latency, wait: true)
            let text = InfoReport.text(index: index, stats: stats, config: config, server: server, live: live, cluster: cluster)
            let sections = (1..<request.count).map { String(decoding: request[$0], as: UTF8.self) }
            encoder.text(sections.isEmpty ? text : InfoReport.sections(sections, of: text), into: &out)
        case .help:
            encoder.text(Command.specs.map { "\($0.syntax) -- \($0.summary)" }.joined(separator: "\r\n"), into: &out)
        case .command:
            try commandIntrospection(request, encoder, &out)
        case .config:
            try configCommand(request, encoder, &out)
        case .time:
            let now = Date().timeIntervalSince1970
            let seconds = Int(now)
            encoder.write(.array([.text(String(seconds)), .text(String(Int((now - Double(seconds)) * 1_000_000)))]), into: &out)
        case .bgsave:
            guard let live else { throw CommandError(code: "NOLIVE", message: "this server was started without live state (no data-dir)") }
            try live.beginSave()
            passOn?.broadcastInBackground([Array("BGSAVE".utf8)])
            DispatchQueue.global().async { _ = live.save() }
            encoder.status("Background saving started", into: &out)
        case .hello, .client, .select, .reset, .multi, .exec, .discard, .watch, .unwatch, .cluster, .readonly, .readwrite, .asking:
            break  // runSession, runCluster: they change the connection
        case .sim:
            let options = try parseOptions(request, from: 2, index: index, .sim)
            index.similar(to: index.items.lookup(request[1]), options: options, scratch: scratch)
            reply(scratch.result, names: index.items, encoder, &out)
        case .rec:
            var dueFirst = false
            var experiment: Experiment?
            var mode: RecMode?
            var options = try parseOptions(request, from: 2, index: index, .rec) { option, value throws(CommandError) in
                switch option {
                case .mode: mode = try recMode(value)
                case .exp: experiment = try self.experiment(named: value)
                default:  // .due, the only other one REC takes
                    guard let v = SnapshotLoader.parseBool(value) else { throw .syntax("due must be 1 or 0, got '\(Request.show(value))'") }
                    dueFirst = v
                }
            }
            if let mode, mode != .cf && index.vectors == nil { throw noVectors() }
            // Without mode=, what `similarity auto` chose for this index.
            options.mode = mode ?? (index.vectors != nil ? index.config.recMode : .cf)
            options.vectorWeight = config.hybridWeight ?? index.config.vectorWeight
            try withMember(request[1]) { (user: UnsafeBufferPointer<UInt8>) throws(CommandError) in
                var tag: (String, String)?
                if let experiment {
                    // The variant's settings win over the request's.
                    let v = experiment.variant(for: user)
                    if let m = v.mode { options.mode = m }
                    if let w = v.hybridWeight { options.vectorWeight = w }
                    if options.mode != .cf && index.vectors == nil { throw noVectors() }
                    stats.experiments.add(experiment.name, v.name) { $0.requests += 1 }
                    tag = ("(variant)", v.name)
                }
                rec(user, options, dueFirst: dueFirst, index, encoder, tag: tag, &out)
            }
        case .session:
            let options = try parseOptions(request, from: 2, index: index, .session)
            scratch.requestItems.removeAll(keepingCapacity: true)
            forEachListed(request[1]) { item in
                scratch.requestItems.append(index.items.lookup(item) ?? UInt32.max)
            }
            index.recommendSession(options: options, scratch: scratch)
            reply(scratch.result, names: index.items, encoder, &out)
        case .popular:
            let options = try parseOptions(request, from: 1, index: index, .popular)
            index.popular(options: options, scratch: scratch)
            reply(scratch.result, names: index.items, encoder, &out)
        case .due:
            var now: Int64?
            let options = try parseOptions(request, from: 2, index: index, .due) { _, value throws(CommandError) in
                now = try ArgumentRanges.now(value)  // .now, the only option DUE adds
            }
            withMember(request[1]) { user in
                let snapshotHistory = loadLive(user, index, purchases: true)
                index.due(user: index.users.lookup(user), now: now ?? referenceNow(index), options: options,
                          scratch: scratch, snapshotHistory: snapshotHistory)
            }
            reply(scratch.result, names: index.items, encoder, &out)
        case .auth:
            break  // handled before dispatch: it changes the connection
        case .vsim:
            guard VectorSetQuery.isRedisForm(request) else {
                throw .syntax("VSIM takes Redis 8's form: VSIM items ELE item [WITHSCORES] [COUNT n] ...; recd's filtered form is VLIKE item [k=N] [category=C] ...")
            }
            try vectorSetQuery(request, index, encoder, &out)
        case .vcard, .vdim, .vemb, .vinfo, .vismember, .vgetattr:
            try vectorSetRead(command, request, index, encoder, &out)
        case .vlike:
            let options = try parseOptions(request, from: 2, index: index, .vlike)
            guard index.vectors != nil else { throw noVectors() }
            index.vectorSimilar(to: index.items.lookup(request[1]), options: options, scratch: scratch)
            reply(scratch.result, names: index.items, encoder, &out)
        case .vrec:
            let options = try parseOptions(request, from: 2, index: index, .vrec)
            guard let vectors = index.vectors else { throw noVectors() }
            scratch.requestVector.removeAll(keepingCapacity: true)
            var bad: String?
            var nonZero = false
            forEachListed(request[1]) { v in
                if let x = ArgumentRanges.vectorComponent(v) {
                    scratch.requestVector.append(x)
                    nonZero = nonZero || x != 0
                } else if bad == nil {
                    bad = Request.show(v)
                }
            }
            if let bad { throw .syntax("vector values must be finite numbers from -1e9 to 1e9, got '\(bad)'") }
            guard scratch.requestVector.count == vectors.dimension else {
                throw .syntax("vector has \(scratch.requestVector.count) values; the index's vectors have \(vectors.dimension)")
            }
            // A vector with no direction (all 0, or too small to square in Float) matches nothing.
            var norm: Float = 0
            for x in scratch.requestVector { norm += x * x }
            guard nonZero, norm > 0, norm.isFinite else {
                throw .syntax("vector must have a direction: its values are all 0 or too small, got '\(Request.show(request[1]))'")
            }
            index.vectorRecommend(options: options, scratch: scratch)
            reply(scratch.result, names: index.items, encoder, &out)
        case .segment:
            segment(request, index, encoder, &out)
        case .variant:
            let experiment = try experiment(named: request[2])
            let v = withMember(request[1]) { experiment.variant(for: $0) }
            encoder.fields([("experiment", experiment.name), ("variant", v.name)], into: &out)
        case .experiment:
            return try experimentCounts(request, encoder, &out)
        case .lookalike:
            try lookalike(request, index, encoder, &out)
        case .audience:
            return try audience(request, index, encoder, &out)
        case .event, .item, .forget, .reload, .save, .alias:
            guard let live else {
                throw CommandError(code: "NOLIVE", message: "this server was started without live state (no data-dir)")
            }
            return try runLive(command, request, live, encoder, &out)
        }
        return .keepOpen
    }

    /// A recommendation reply: items and scores, and where they came from
    /// when the request said WITHMETA; counted for INFO either way.
    func reply(_ result: ResultList, names: ByteInterner, tag: (String, String)? = nil, _ encoder: ReplyEncoder,
               _ out: inout [UInt8]) {
        if result.fallbackCount > 0 { fallbackReplies += 1 }
        if result.unknownSubject { unknownReplies += 1 }
        encoder.recommendations(result, names: names, tag: tag, meta: wantsMeta, into: &out)
    }

    /// A deferred command's outcome as its reply: `OK [message]` or the error.
    static func encode(_ outcome: Result<String, CommandError>, _ encoder: ReplyEncoder, into out: inout [UInt8]) {
        switch outcome {
        case .success(let message): encoder.status(message: message.isEmpty ? "OK" : "OK " + message, into: &out)
        case .failure(let error): encoder.error(error.code, error.message, into: &out)
        }
    }

    /// The value of REC's `mode=`.
    func recMode(_ value: UnsafeBufferPointer<UInt8>) throws(CommandError) -> RecMode {
        if ByteParsing.equalsLowercase(value, "cf") { return .cf }
        if ByteParsing.equalsLowercase(value, "vec") { return .vec }
        if ByteParsing.equalsLowercase(value, "hybrid") { return .hybrid }
        throw .syntax("mode must be cf, vec or hybrid, got '\(Request.show(value))'")
    }

    func noVectors() -> CommandError {
        if config.build.alsFactors > 0, live?.buildStage.withLock({ $0 }) == "tuning", view.index.vectors == nil {
            return CommandError(code: "NOVECTORS", message: "item vectors are being learned in the background (INFO build_stage:tuning); try again when it says tuned")
        }
        return CommandError(code: "NOVECTORS", message: "no item vectors: the snapshot has no embeddings.tsv or embeddings.f32 and als-factors is 0 (set als-factors, e.g. 32)")
    }

    /// `AUTH [default] password`: constant-time comparison, so response time
    /// does not reveal how much of a guess was right.
    func auth(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8], _ authenticated: inout Bool) -> Action {
        commandCounts[Command.auth.rawValue] += 1
        guard !config.requirePass.isEmpty else {
            errorCounts[Command.auth.rawValue] += 1
            encoder.error("AUTH", "no password is configured (requirepass)", into: &out)
            return .keepOpen
        }
        if request.count == 3 && !ByteParsing.equalsLowercase(request[1], "default") || request.count < 2 || request.count > 3 {
            errorCounts[Command.auth.rawValue] += 1
            encoder.redisError("WRONGPASS", "invalid username-password pair", into: &out)
            return .keepOpen
        }
        if CommandHandler.constantTimeEqual(request[request.count - 1], config.requirePass) {
            authenticated = true
            encoder.status("OK", into: &out)
        } else {
            errorCounts[Command.auth.rawValue] += 1
            encoder.redisError("WRONGPASS", "invalid username-password pair", into: &out)
        }
        return .keepOpen
    }

    static func constantTimeEqual(_ given: UnsafeBufferPointer<UInt8>, _ secret: String) -> Bool {
        var difference = UInt(given.count ^ secret.utf8.count)
        var i = 0
        for b in secret.utf8 {
            difference |= UInt((i < given.count ? given[i] : 0) ^ b)
            i += 1
        }
        return difference == 0
    }

    /// `REC`, with the user's live events, and due items first on `due=1`.
    func rec(_ user: UnsafeBufferPointer<UInt8>, _ options: QueryOptions, dueFirst: Bool, _ index: RecIndex,
             _ encoder: ReplyEncoder, tag: (String, String)? = nil, _ out: inout [UInt8]) {
        let id = index.users.lookup(user)
        let snapshotHistory = loadLive(user, index, purchases: dueFirst)
        guard dueFirst else {
            index.recommend(user: id, options: options, scratch: scratch, snapshotHistory: snapshotHistory)
            reply(scratch.result, names: index.items, tag: tag, encoder, &out)
            return
        }
        index.due(user: id, now: referenceNow(index), options: options, scratch: scratch, snapshotHistory: snapshotHistory)
        let dueIds = scratch.result.ids, dueScores = scratch.result.scores
        scratch.excludeItems.append(contentsOf: dueIds)
        var rest = options
        rest.k = max(0, options.k - dueIds.count)
        if rest.k > 0 {
            index.recommend(user: id, options: rest, scratch: scratch, snapshotHistory: snapshotHistory)
            scratch.result.prepend(ids: dueIds, scores: dueScores)
        }
        reply(scratch.result, names: index.items, tag: tag, encoder, &out)
    }

    /// Runs `body` with the member id `user` is stitched to (ALIAS), or
    /// `user` itself; no allocation unless aliases exist.
    func withMember<R, E: Error>(_ user: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        guard let member = live?.state.canonical(user) else { return try body(user) }
        return try member.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(E) -> R in try body(b) }
    }

    func experiment(named name: UnsafeBufferPointer<UInt8>) throws(CommandError) -> Experiment {
        let text = String(decoding: name, as: UTF8.self)
        guard let e = config.experiments.first(where: { $0.name == text }) else {
            let known = config.experiments.map(\.name).joined(separator: ", ")
            throw CommandError(code: "NOEXPERIMENT", message: "no experiment '\(Request.show(name))' in config (known: \(known.isEmpty ? "none" : known))")
        }
        return e
    }

    /// Copies the user's live events into the scratch (as current index
    /// ids and weights); returns whether the snapshot's history still counts.
    func loadLive(_ user: UnsafeBufferPointer<UInt8>, _ index: RecIndex, purchases: Bool) -> Bool {
        scratch.liveItems.removeAll(keepingCapacity: true)
        scratch.liveWeights.removeAll(keepingCapacity: true)
        scratch.livePurchases.removeAll(keepingCapacity: true)
        guard let live, live.state.eventCount > 0 || live.state.hasTombstones || live.state.hasAliases else { return true }
        // Snapshot histories of visitors stitched to this member count as theirs.
        if live.state.hasAliases {
            for visitor in live.state.stitched(to: Array(user)) {
                guard let v = visitor.withUnsafeBufferPointer({ index.users.lookup($0) }) else { continue }
                for h in index.histories.range(of: v) {
                    scratch.liveItems.append(index.histories.items[h])
                    scratch.liveWeights.append(index.histories.weights[h])
                }
            }
        }
        return live.state.withUser(user) { u in
            guard let u else { return true }
            for e in u.events {
                guard let id = e.item.withUnsafeBufferPointer({ index.items.lookup($0) }) else { continue }
                scratch.liveItems.append(id)
                scratch.liveWeights.append(index.liveWeight(e.type, time: e.time))
                if purchases && e.type == .purchase { scratch.livePurchases.append((id, e.time)) }
            }
            return !u.forgotten
        }
    }

    /// "Now" for DUE: the latest event known, snapshot or live, so a
    /// snapshot from the past is judged at its own time.
    func referenceNow(_ index: RecIndex) -> Int64 {
        max(index.referenceTime, live?.state.newestTime ?? Int64.min)
    }

    /// Calls `body` with each non-empty comma-separated part of `list`.
    func forEachListed(_ list: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var start = 0
        for i in 0...list.count where i == list.count || list[i] == UInt8(ascii: ",") {
            if i > start { body(list.slice(start, i)) }
            start = i + 1
        }
    }

    /// Calls `body` with each option of `request` from `first` on, after
    /// checking that `command` takes it (the command table says which); the
    /// error for one it does not take lists those it does. `WITHMETA` is
    /// taken here. Not optional: an optional closure escapes, and its
    /// captured locals would be boxed on the heap on every request.
    func forEachOption(_ request: Request, from first: Int, _ command: Command,
                       _ body: (CommandOption, UnsafeBufferPointer<UInt8>) throws(CommandError) -> Void) throws(CommandError) {
        let spec = command.spec
        var i = first
        while i < request.count {
            let token = request[i]
            i += 1
            let eq = token.firstIndex(of: UInt8(ascii: "="))
            let name = eq.map { token.slice(0, $0) } ?? token
            guard let option = CommandOption.lookup(name), spec.takes(option) else {
                if eq == nil && CommandOption.lookup(name) == nil {
                    throw .syntax("expected name=value, got '\(Request.show(token))' (options: \(spec.optionList))")
                }
                throw .syntax("unknown option '\(Request.show(name))' (options: \(spec.optionList))")
            }
            if option == .withMeta {
                guard eq == nil else { throw .syntax("WITHMETA takes no value, got '\(Request.show(token))'") }
                wantsMeta = true
                continue
            }
            guard let eq else { throw .syntax("expected \(option.name)=value, got '\(Request.show(token))'") }
            try body(option, token.slice(eq + 1, token.count))
        }
    }

    /// The query options of a recommendation command; fills
    /// `scratch.excludeItems`. `extra` takes the command's own options.
    func parseOptions(_ request: Request, from first: Int, index: RecIndex, _ command: Command,
                      extra: (CommandOption, UnsafeBufferPointer<UInt8>) throws(CommandError) -> Void = { _, _ in })
        throws(CommandError) -> QueryOptions {
        var options = QueryOptions()
        options.ef = config.hnswEf
        scratch.excludeItems.removeAll(keepingCapacity: true)
        try forEachOption(request, from: first, command) { (option, value) throws(CommandError) in
            switch option {
            case .k: options.k = try ArgumentRanges.k(value, maxK: config.maxK)
            case .ef: options.ef = try ArgumentRanges.ef(value)
            case .category:
                if let c = index.catalog.categories.lookup(value) { options.category = .only(c) } else { options.category = .unknown }
            case .instock:
                guard let v = SnapshotLoader.parseBool(value) else { throw .syntax("instock must be 1 or 0, got '\(Request.show(value))'") }
                options.inStockOnly = v
            case .exclude:
                forEachListed(value) { item in
                    if let id = index.items.lookup(item) { scratch.excludeItems.append(id) }
                }
            case .seen:
                if ByteParsing.equalsLowercase(value, "exclude") {
                    options.seen = .exclude
                } else if ByteParsing.equalsLowercase(value, "include") {
                    options.seen = .include
                } else {
                    throw .syntax("seen must be exclude or include, got '\(Request.show(value))'")
                }
            default:
                try extra(option, value)
            }
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

    /// Arguments `first...` joined by single spaces (a line's words, decoded).
    func joined(from first: Int) -> [UInt8] {
        var out: [UInt8] = []
        for i in first..<count {
            if i > first { out.append(0x20) }
            out.append(contentsOf: self[i])
        }
        return out
    }

    /// An argument quoted in an error message, cut short and made printable.
    static func show(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let s = String(decoding: bytes.prefix(64), as: UTF8.self)
        return String(s.map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 })
            + (bytes.count > 64 ? "..." : "")
    }
}
