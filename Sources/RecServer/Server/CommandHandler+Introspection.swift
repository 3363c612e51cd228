import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RecCore

/// COMMAND and CONFIG: what recd is and how it is set, in Redis's shapes.
extension CommandHandler {
    /// `COMMAND`, `COMMAND COUNT | LIST | INFO name ... | DOCS name ...`.
    func commandIntrospection(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) {
        guard request.count > 1 else {
            encoder.write(.array(Command.allCases.map(CommandDocs.info)), into: &out)
            return
        }
        let sub = request[1]
        let named = (2..<request.count).map { i in Command.lookup(request[i]) }
        if ByteParsing.equalsLowercase(sub, "count") {
            encoder.integer(Command.allCases.count, into: &out)
        } else if ByteParsing.equalsLowercase(sub, "list") {
            encoder.write(.array(Command.allCases.map { .text($0.spec.name.lowercased()) }), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "info") {
            let commands = request.count == 2 ? Command.allCases.map { Optional($0) } : named
            encoder.write(.array(commands.map { $0.map(CommandDocs.info) ?? .null }), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "getkeys") {
            // `COMMAND GETKEYS cmd arg ...`: the key a cluster client routes by.
            guard request.count > 2, let command = named[0] else {
                encoder.write(.error("ERR Invalid command specified"), into: &out)
                return
            }
            let key = command.spec.key
            guard key > 0 else {
                encoder.write(.error("ERR The command has no key arguments"), into: &out)
                return
            }
            guard 2 + key < request.count else {
                encoder.write(.error("ERR Invalid number of arguments specified for command"), into: &out)
                return
            }
            encoder.write(.array([.bulk(Array(request[2 + key]))]), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "docs") {
            // Unknown names are left out, as Redis does.
            let commands = request.count == 2 ? Command.allCases : named.compactMap { $0 }
            encoder.write(.map(commands.map { (.text($0.spec.name.lowercased()), CommandDocs.docs($0)) }), into: &out)
        } else {
            encoder.write(.error("ERR unknown subcommand '\(Request.show(sub))'. Try COMMAND HELP."), into: &out)
        }
    }

    /// What CONFIG GET answers beyond recd's own settings: what Redis tools
    /// probe (redis-benchmark: save, appendonly; redis-cli --stat: databases).
    static let redisProbes: [(String, String)] = [("save", ""), ("appendonly", "no"), ("databases", "1")]

    /// `CONFIG GET pattern ...` (glob patterns, as Redis) and `CONFIG SET name value ...`.
    func configCommand(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) {
        let sub = request[1]
        if ByteParsing.equalsLowercase(sub, "get") {
            guard request.count >= 3 else {
                encoder.write(.error("ERR wrong number of arguments for 'config|get' command"), into: &out)
                return
            }
            let patterns = (2..<request.count).map { String(decoding: request[$0], as: UTF8.self).lowercased() }
            var pairs: [(String, String)] = []
            for (name, value) in config.effective.sorted(by: { $0.key < $1.key }) + CommandHandler.redisProbes
            where patterns.contains(where: { fnmatch($0, name, 0) == 0 }) && !pairs.contains(where: { $0.0 == name }) {
                pairs.append((name, value))
            }
            encoder.write(.map(pairs.map { (.text($0.0), .text($0.1)) }), into: &out)
        } else if ByteParsing.equalsLowercase(sub, "set") {
            guard request.count >= 4, request.count % 2 == 0 else {
                encoder.write(.error("ERR wrong number of arguments for 'config|set' command"), into: &out)
                return
            }
            let pairs = stride(from: 2, to: request.count, by: 2).map {
                (String(decoding: request[$0], as: UTF8.self).lowercased(), String(decoding: request[$0 + 1], as: UTF8.self))
            }
            do { try runtime.set(pairs) } catch {
                throw CommandError(code: "CONFIG", message: error.description)
            }
            encoder.status("OK", into: &out)
        } else {
            encoder.write(.error("ERR unknown subcommand '\(Request.show(sub))'. Try CONFIG HELP."), into: &out)
        }
    }
}
