import Foundation
import RecCore

/// The live commands: they write (log first, then memory) or run an
/// operation in the background.
extension CommandHandler {
    func runLive(_ command: Command, _ request: Request, _ live: LiveService, _ encoder: ReplyEncoder,
                 _ out: inout [UInt8]) throws(CommandError) -> Action {
        switch command {
        case .event:
            // Exactly the three names: the snapshot loader's export synonyms
            // (buy, click, transaction) are for files, not for new clients.
            let typeName = request[3]
            let type: EventType? = ByteParsing.equalsLowercase(typeName, "view") ? .view
                : ByteParsing.equalsLowercase(typeName, "cart") ? .cart
                : ByteParsing.equalsLowercase(typeName, "purchase") ? .purchase : nil
            guard let type else {
                throw .syntax("event type must be view, cart or purchase, got '\(Request.show(request[3]))'")
            }
            let now = Int64(Date.now.timeIntervalSince1970)
            var event = LiveEvent(item: Array(request[2]), type: type, time: now)
            var experiment: Experiment?
            try forEachOption(request, from: 4, .event) { option, value throws(CommandError) in
                switch option {
                case .ts: event.time = try ArgumentRanges.ts(value, latest: now + Int64(config.maxClockSkew), skew: config.maxClockSkew)
                case .qty: event.quantity = try ArgumentRanges.qty(value)
                default: experiment = try self.experiment(named: value)  // .exp
                }
            }
            try requireId(request[1], "user")
            try requireId(request[2], "item")
            let slot = try replicationSlot(request[1])
            if catchingUp, live.state.withUser(request[1], { $0?.events.contains(event) ?? false }) {
                encoder.status("OK", into: &out)
                return .keepOpen
            }
            logTicket = try live.record(user: Array(request[1]), event)
            if let slot, let cluster {
                // The replicas get the time and quantity this node resolved.
                replicaWaits += cluster.forward(slot: slot, [Array("EVENT".utf8), Array(request[1]), Array(request[2]), Array(request[3]),
                                                             Array("ts=\(event.time)".utf8), Array("qty=\(event.quantity)".utf8)])
            }
            if let experiment {
                let v = withMember(request[1]) { experiment.variant(for: $0) }
                stats.experiments.add(experiment.name, v.name) { c in
                    if type == .purchase { c.purchases += 1 } else { c.clicks += 1 }
                }
            }
            encoder.status("OK", into: &out)
        case .item:
            try requireId(request[1], "item")
            var patch = ItemPatch(item: Array(request[1]))
            try forEachOption(request, from: 2, .item) { option, value throws(CommandError) in
                switch option {
                case .instock:
                    guard let v = SnapshotLoader.parseBool(value) else {
                        throw .syntax("instock must be 1 or 0, got '\(Request.show(value))'")
                    }
                    patch.inStock = v
                case .category: patch.category = Array(value)
                case .price: patch.price = try ArgumentRanges.price(value)
                default: patch.title = Array(value)  // .title
                }
            }
            logTicket = try live.item(patch)
            // Every node serves the catalog: the reply waits for them, off
            // the loop (and for this node's log, as any write).
            if let cluster = passOn {
                let args = (0..<request.count).map { Array(request[$0]) }
                return .deferred {
                    cluster.broadcast(args)
                    return .success("")
                }
            }
            encoder.status("OK", into: &out)
        case .forget:
            // Off the loop: the suppression list, the log append and the
            // log's rewrite each wait for the disk. In a cluster the
            // replicas get the FORGET as sent (they resolve its ALIAS as
            // this node did); every other node serves the same snapshot, so
            // it gets each id forgotten, to hide them too.
            let user = Array(request[1])
            let slot = try replicationSlot(request[1])
            let cluster = self.cluster
            return .deferred {
                Result { () throws(CommandError) in
                    let ids = try live.forget(user: user)
                    if let slot, let cluster {
                        cluster.forwardAndWait(slot: slot, [Array("FORGET".utf8), user])
                        for id in ids { cluster.broadcast([Array("FORGET".utf8), id], skipping: cluster.namedReplicas(ofSlot: slot)) }
                    }
                }.map { "" }
            }
        case .alias:
            try requireId(request[1], "visitor")
            try requireId(request[2], "member")
            guard !request[1].elementsEqual(request[2]) else { throw .syntax("ALIAS needs two different ids") }
            let slot = try replicationSlot(request[1])
            logTicket = try live.alias(from: Array(request[1]), to: Array(request[2]))
            if let slot, let cluster { replicaWaits += cluster.forward(slot: slot, [Array("ALIAS".utf8), Array(request[1]), Array(request[2])]) }
            encoder.status("OK", into: &out)
        case .reload:
            var dir: String?
            var async = false
            for i in 1..<request.count {
                if ByteParsing.equalsLowercase(request[i], "async") { async = true } else {
                    dir = String(decoding: request[i], as: UTF8.self)
                }
            }
            let target = try live.beginReload(dir)
            // Every node reloads, each its own copy of the snapshot at the
            // same path: after this one, and waited for unless ASYNC.
            let others = passOn
            let remote = [Array("RELOAD".utf8)] + (dir.map { [Array($0.utf8)] } ?? [])
            if async {
                others?.broadcastInBackground(remote + [Array("ASYNC".utf8)])
                DispatchQueue.global().async { _ = live.reload(target) }
                encoder.status(message: "OK reload of \(target) started; INFO shows its outcome", into: &out)
                return .keepOpen
            }
            return .deferred {
                let here = live.reload(target)
                guard case .success(let summary) = here, let others else { return here }
                let failed = others.onEveryOtherNode(remote)
                return .success(summary + (failed.isEmpty ? "; every other node reloaded too"
                                                          : "; not reloaded on \(failed.joined(separator: ", "))"))
            }
        case .save:
            try live.beginSave()
            // Every node saves its own users' state, after this one.
            let others = passOn
            // Redis clients expect a bare OK (redis-py's save() is True only
            // then); the new snapshot's path is in INFO and the log.
            return .deferred {
                let here = live.save().map { _ in "" }
                guard case .success = here, let others else { return here }
                let failed = others.onEveryOtherNode([Array("SAVE".utf8)])
                return failed.isEmpty ? here : .failure(CommandError(code: "SAVE", message: "saved on this node, not on \(failed.joined(separator: ", ")); send SAVE to those nodes"))
            }
        default:
            break
        }
        return .keepOpen
    }

    /// Any bytes but none at all: snapshot files escape what would break a row (TSVEscape).
    func requireId(_ id: UnsafeBufferPointer<UInt8>, _ what: String) throws(CommandError) {
        if id.isEmpty { throw .syntax("\(what) id must not be empty") }
    }
}
