import Foundation
import RecCore

/// The commands that change the connection rather than answer about the
/// shop: HELLO, CLIENT, SELECT, RESET, and transactions. Replies and error
/// texts are Redis's own, since client libraries match on them.
///
/// Transactions: MULTI queues commands (checked for name and arity as they
/// arrive, answered `QUEUED`); EXEC runs them in order, back to back on this
/// connection's loop, and answers the array of their replies. Isolation:
/// no other command of this connection runs in between, and neither does
/// any command of the other connections on the same loop; connections on
/// other loops may interleave their own commands (recd holds no lock across
/// a transaction). Each write is logged before it applies, as outside a
/// transaction; there is no rollback: a command that fails at run time
/// answers its error inside EXEC's array and the others still run, as in
/// Redis. A command refused while queueing (unknown, wrong arity, or one
/// that cannot run inside a transaction: SAVE, RELOAD) makes EXEC answer
/// EXECABORT and nothing runs. WATCH is refused: recd has no keys to watch.
extension CommandHandler {
    /// Inside MULTI: queues `command` and answers QUEUED, or runs it now
    /// (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET) by returning nil.
    func queue(_ command: Command, _ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8],
               _ client: inout ClientState) -> Action? {
        switch command {
        case .exec, .discard, .multi, .watch, .quit, .reset: return nil
        default: break
        }
        if command.spec.flags.contains("no_multi") {
            errorCounts[command.rawValue] += 1
            client.transactionFailed = true
            encoder.write(.error("ERR Command not allowed inside a transaction"), into: &out)
            return .keepOpen
        }
        client.queued!.append((0..<request.count).map { Array(request[$0]) })
        client.record.multi.store(client.queued!.count, ordering: .relaxed)
        encoder.status("QUEUED", into: &out)
        return .keepOpen
    }

    func runSession(_ command: Command, _ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8],
                    _ client: inout ClientState) throws(CommandError) -> Action {
        switch command {
        case .hello: hello(request, encoder, &out, &client)
        case .client: try clientCommand(request, encoder, &out, &client)
        case .select:
            guard let n = ByteParsing.parseInt(request[1]) else {
                encoder.write(.error("ERR value is not an integer or out of range"), into: &out)
                return .keepOpen
            }
            if n == 0 { encoder.status("OK", into: &out) } else { encoder.write(.error("ERR DB index is out of range"), into: &out) }
        case .reset:
            client.queued = nil
            client.transactionFailed = false
            client.resp3 = false
            client.authenticated = config.requirePass.isEmpty
            client.record.resp3.store(false, ordering: .relaxed)
            client.record.multi.store(-1, ordering: .relaxed)
            client.record.names.withLock { $0.name = "" }
            encoder.status("RESET", into: &out)
        case .multi:
            guard encoder.dialect == .resp else {
                throw .syntax("MULTI needs the RESP dialect: a line connection answers one line per command")
            }
            if client.queued != nil {
                encoder.write(.error("ERR MULTI calls can not be nested"), into: &out)
            } else {
                client.queued = []
                client.transactionFailed = false
                client.record.multi.store(0, ordering: .relaxed)
                encoder.status("OK", into: &out)
            }
        case .discard:
            guard client.queued != nil else {
                encoder.write(.error("ERR DISCARD without MULTI"), into: &out)
                return .keepOpen
            }
            client.queued = nil
            client.record.multi.store(-1, ordering: .relaxed)
            encoder.status("OK", into: &out)
        case .exec:
            return exec(encoder, &out, &client)
        case .watch:
            let message = client.queued != nil ? "ERR WATCH inside MULTI is not allowed"
                : "ERR WATCH is not supported: recd has no keys to watch; EXEC runs a transaction's commands back to back"
            encoder.write(.error(message), into: &out)
        case .unwatch:
            encoder.status("OK", into: &out)
        default:
            break
        }
        return .keepOpen
    }

    func exec(_ encoder: ReplyEncoder, _ out: inout [UInt8], _ client: inout ClientState) -> Action {
        guard let queued = client.queued else {
            encoder.write(.error("ERR EXEC without MULTI"), into: &out)
            return .keepOpen
        }
        client.queued = nil
        client.record.multi.store(-1, ordering: .relaxed)
        if client.transactionFailed {
            client.transactionFailed = false
            encoder.write(.error("EXECABORT Transaction discarded because of previous errors."), into: &out)
            return .keepOpen
        }
        out.append(UInt8(ascii: "*"))
        NumberWriter.writeInt(queued.count, into: &out)
        out.append(contentsOf: [0x0D, 0x0A])
        var action = Action.keepOpen
        for args in queued {
            var bytes: [UInt8] = []
            var list = ArgList()
            for a in args {
                list.append(bytes.count, bytes.count + a.count)
                bytes.append(contentsOf: a)
            }
            // Commands that defer (SAVE, RELOAD) or close were not queued; a
            // cluster-wide answer gathers, and ITEM reaches the other nodes,
            // here, in order, on the loop.
            let result = bytes.withUnsafeBufferPointer { b in handle(list, b, encoder, &out, client: &client) }
            if case .close = result { action = .close }
            switch result {
            case .deferredReply(let work): out += work()
            case .deferred(let work): Self.encode(work(), encoder, into: &out)
            default: break
            }
        }
        return action
    }

    /// `HELLO [2|3] [AUTH user pass] [SETNAME name]`: checks everything,
    /// then authenticates, names, switches the protocol, and answers in the
    /// new one, as Redis does.
    func hello(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8], _ client: inout ClientState) {
        var version = client.resp3 ? 3 : 2
        var password: UnsafeBufferPointer<UInt8>?
        var user: UnsafeBufferPointer<UInt8>?
        var name: [UInt8]?
        if request.count > 1 {
            guard let v = ByteParsing.parseInt(request[1]), v >= Int64(Int32.min), v <= Int64(Int32.max) else {
                encoder.write(.error("ERR Protocol version is not an integer or out of range"), into: &out)
                return
            }
            guard v == 2 || v == 3 else {
                encoder.write(.error("NOPROTO unsupported protocol version"), into: &out)
                return
            }
            version = Int(v)
            var i = 2
            while i < request.count {
                if ByteParsing.equalsLowercase(request[i], "auth") && i + 2 < request.count {
                    user = request[i + 1]
                    password = request[i + 2]
                    i += 3
                } else if ByteParsing.equalsLowercase(request[i], "setname") && i + 1 < request.count {
                    name = Array(request[i + 1])
                    i += 2
                } else {
                    encoder.write(.error("ERR Syntax error in HELLO option '\(Request.show(request[i]))'"), into: &out)
                    return
                }
            }
        }
        if let password {
            // With no requirepass, Redis's default user takes any password.
            let userOK = user.map { ByteParsing.equalsLowercase($0, "default") } ?? true
            guard config.requirePass.isEmpty || userOK && CommandHandler.constantTimeEqual(password, config.requirePass) else {
                errorCounts[Command.hello.rawValue] += 1
                encoder.write(.error("WRONGPASS invalid username-password pair or user is disabled."), into: &out)
                return
            }
            client.authenticated = true
        }
        guard client.authenticated else {
            encoder.write(.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"), into: &out)
            return
        }
        if let name {
            guard CommandHandler.validClientName(name) else {
                encoder.write(.error("ERR Client names cannot contain spaces, newlines or special characters."), into: &out)
                return
            }
            client.record.names.withLock { $0.name = String(decoding: name, as: UTF8.self) }
        }
        client.resp3 = version == 3
        client.record.resp3.store(client.resp3, ordering: .relaxed)
        let replyEncoder = ReplyEncoder(dialect: encoder.dialect, resp3: client.resp3)
        replyEncoder.write(.fields([
            ("server", .text("redis")), ("version", .text(RecdVersion.redisCompatible)), ("proto", .integer(version)),
            ("id", .integer(Int(client.record.id))), ("mode", .text(cluster == nil ? "standalone" : "cluster")), ("role", .text("master")),
            ("modules", .array([])),
        ]), into: &out)
    }

    /// Redis's rule: printable ASCII without spaces.
    static func validClientName(_ name: [UInt8]) -> Bool { name.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } }

    func clientCommand(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8],
                       _ client: inout ClientState) throws(CommandError) {
        let sub = request[1]
        func arity(_ n: Int, _ full: String) -> Bool {
            if request.count == n { return true }
            encoder.write(.error("ERR wrong number of arguments for 'client|\(full)' command"), into: &out)
            return false
        }
        let now = MonotonicClock.seconds()
        if ByteParsing.equalsLowercase(sub, "setname") {
            guard arity(3, "setname") else { return }
            let name = Array(request[2])
            guard CommandHandler.validClientName(name) else {
                encoder.write(.error("ERR Client names cannot contain spaces, newlines or special characters."), into: &out)
                return
            }
            client.record.names.withLock { $0.name = String(decoding: name, as: UTF8.self) }
            encoder.status("OK", into: &out)
        } else if ByteParsing.equalsLowercase(sub, "getname") {
            guard arity(2, "getname") else { return }
            let name = client.record.names.withLock { $0.name }
            encoder.write(name.isEmpty ? .null : .text(name), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "setinfo") {
            guard arity(4, "setinfo") else { return }
            let attribute = request[2], value = Array(request[3])
            let isName = ByteParsing.equalsLowercase(attribute, "lib-name")
            guard isName || ByteParsing.equalsLowercase(attribute, "lib-ver") else {
                encoder.write(.error("ERR Unrecognized option '\(Request.show(attribute))'"), into: &out)
                return
            }
            guard value.isEmpty || CommandHandler.validClientName(value) else {
                encoder.write(.error("ERR \(Request.show(attribute)) cannot contain spaces, newlines or special characters."), into: &out)
                return
            }
            let text = String(decoding: value, as: UTF8.self)
            client.record.names.withLock { if isName { $0.libName = text } else { $0.libVersion = text } }
            encoder.status("OK", into: &out)
        } else if ByteParsing.equalsLowercase(sub, "id") {
            guard arity(2, "id") else { return }
            encoder.integer(Int(client.record.id), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "info") {
            guard arity(2, "info") else { return }
            encoder.text(client.record.listLine(now: now) + "\n", into: &out)
        } else if ByteParsing.equalsLowercase(sub, "list") {
            var ids: Set<UInt64>?
            var i = 2
            while i < request.count {
                if ByteParsing.equalsLowercase(request[i], "id") {
                    var set = Set<UInt64>()
                    i += 1
                    while i < request.count, let id = ByteParsing.parseInt(request[i]), id > 0 {
                        set.insert(UInt64(id))
                        i += 1
                    }
                    if set.isEmpty {
                        encoder.write(.error("ERR Invalid client ID"), into: &out)
                        return
                    }
                    ids = set
                } else if ByteParsing.equalsLowercase(request[i], "type"), i + 1 < request.count {
                    guard ByteParsing.equalsLowercase(request[i + 1], "normal") else {
                        encoder.write(.error("ERR Unknown client type '\(Request.show(request[i + 1]))'"), into: &out)
                        return
                    }
                    i += 2
                } else {
                    encoder.write(.error("ERR syntax error"), into: &out)
                    return
                }
            }
            let lines = clients.all.filter { ids?.contains($0.id) ?? true }.map { $0.listLine(now: now) + "\n" }
            encoder.text(lines.joined(), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "kill") {
            try clientKill(request, encoder, &out, client)
        } else if ByteParsing.equalsLowercase(sub, "help") {
            encoder.write(.array(["CLIENT SETNAME name", "CLIENT GETNAME", "CLIENT SETINFO LIB-NAME|LIB-VER value", "CLIENT ID",
                                  "CLIENT INFO", "CLIENT LIST [TYPE normal] [ID id ...]", "CLIENT KILL addr",
                                  "CLIENT KILL ID id [ADDR addr] [SKIPME yes|no]"].map { .simple($0) }), into: &out)
        } else {
            encoder.write(.error("ERR unknown subcommand '\(Request.show(sub))'. Try CLIENT HELP."), into: &out)
        }
    }

    /// `CLIENT KILL addr` (replies OK) or `CLIENT KILL ID id | ADDR addr
    /// [SKIPME yes|no]` (replies how many); the owning loop closes them.
    func clientKill(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8], _ client: ClientState) throws(CommandError) {
        if request.count == 3 {
            let addr = String(decoding: request[2], as: UTF8.self)
            guard let target = clients.all.first(where: { $0.address == addr }) else {
                encoder.write(.error("ERR No such client"), into: &out)
                return
            }
            target.owner?.requestClose(fd: target.fd, serial: target.serial)
            encoder.status("OK", into: &out)
            return
        }
        var id: UInt64?, addr: String?, skipMe = true
        var i = 2
        while i + 1 < request.count {
            let value = request[i + 1]
            if ByteParsing.equalsLowercase(request[i], "id") {
                guard let n = ByteParsing.parseInt(value), n > 0 else {
                    encoder.write(.error("ERR client-id should be greater than 0"), into: &out)
                    return
                }
                id = UInt64(n)
            } else if ByteParsing.equalsLowercase(request[i], "addr") {
                addr = String(decoding: value, as: UTF8.self)
            } else if ByteParsing.equalsLowercase(request[i], "skipme") {
                skipMe = !ByteParsing.equalsLowercase(value, "no")
            } else {
                encoder.write(.error("ERR syntax error"), into: &out)
                return
            }
            i += 2
        }
        guard i == request.count, id != nil || addr != nil else {
            encoder.write(.error("ERR syntax error"), into: &out)
            return
        }
        var killed = 0
        for r in clients.all where (id == nil || r.id == id) && (addr == nil || r.address == addr) {
            if skipMe && r.id == client.record.id { continue }
            r.owner?.requestClose(fd: r.fd, serial: r.serial)
            killed += 1
        }
        encoder.integer(killed, into: &out)
    }
}
