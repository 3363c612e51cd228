import Foundation
import RecCore

/// The marketing jobs: segments, lookalikes, audiences, experiments.
extension CommandHandler {
    /// `k=` (default 100) and, for AUDIENCE, `since=` days.
    func audienceOptions(_ request: Request, _ command: Command) throws(CommandError) -> (k: Int, sinceDays: Double?) {
        var k = 100, since: Double?
        try forEachOption(request, from: 2, command) { option, value throws(CommandError) in
            if option == .k { k = try ArgumentRanges.k(value, maxK: config.maxK) } else { since = try ArgumentRanges.sinceDays(value) }
        }
        return (k, since)
    }

    /// `LOOKALIKE user|segment`: a segment name (from segment-rules) seeds
    /// with the centroid of its buyers; anything else is a user id.
    func lookalike(_ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) {
        let k = try audienceOptions(request, .lookalike).k
        let name = String(decoding: request[1], as: UTF8.self)
        var seed: [(item: UInt32, weight: Float)] = []
        var excluding = Set<UInt32>()
        if config.segmentRules.rules.contains(where: { $0.name == name }) {
            var centroid: [UInt32: Float] = [:]
            for (u, v) in index.rfm.values.enumerated() {
                guard let v, index.isVisible(UInt32(u)) else { continue }
                let s = index.rfm.scores(v)
                guard config.segmentRules.segment(r: s.r, f: s.f, m: s.m) == name else { continue }
                excluding.insert(UInt32(u))
                let range = index.histories.range(of: UInt32(u))
                var norm: Float = 0
                for h in range { norm += index.histories.weights[h] * index.histories.weights[h] }
                guard norm > 0 else { continue }  // every weight decayed to 0: no direction to add
                for h in range { centroid[index.histories.items[h], default: 0] += index.histories.weights[h] / norm.squareRoot() }
            }
            seed = centroid.map { ($0.key, $0.value) }.sorted { $0.item < $1.item }
        } else {
            withMember(request[1]) { user in
                let id = index.users.lookup(user)
                let snapshotHistory = loadLive(user, index, purchases: false)
                seed = index.affinity(user: snapshotHistory ? id : nil, extraItems: scratch.liveItems, extraWeights: scratch.liveWeights)
                if let id { excluding.insert(id) }
                for visitor in live?.state.stitched(to: Array(user)) ?? [] {
                    if let v = visitor.withUnsafeBufferPointer({ index.users.lookup($0) }) { excluding.insert(v) }
                }
            }
        }
        var result = index.lookalikes(seed: seed, excluding: excluding, k: k)
        if seed.isEmpty { result.unknownSubject = true }
        reply(result, names: index.users, encoder, &out)
    }

    /// `AUDIENCE item`: snapshot interest without purchase, plus live views
    /// and carts, minus anyone who bought (in the snapshot or live).
    ///
    /// In a cluster a user's live state is whole only on the primary of
    /// their slot, so each node answers for the users it is primary of, and
    /// the node asked gathers the other primaries' parts (over their links,
    /// as epoch seconds, since each node counts days from its own newest
    /// event) and merges them.
    func audience(_ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) -> Action {
        let (k, since) = try audienceOptions(request, .audience)
        let now = referenceNow(index)
        let cutoff = since.map { now.saturatingMinus(Int64($0 * 86_400)) } ?? Int64.min
        var latest: [[UInt8]: Int64] = [:]
        var buyers = Set<[UInt8]>()
        let item = index.items.lookup(request[1])
        if let item {
            for x in index.audiences.range(of: item) where index.audiences.times[x] >= cutoff && index.isVisible(index.audiences.users[x]) {
                latest[index.users.withName(index.audiences.users[x]) { Array($0) }] = index.audiences.times[x]
            }
        }
        live?.state.forEachEvent { user, e in
            guard e.item.elementsEqual(request[1]) else { return }
            if e.type == .purchase { buyers.insert(user) } else if e.time >= cutoff { latest[user] = max(latest[user] ?? .min, e.time) }
        }
        let rows = latest.filter { user, _ in
            if buyers.contains(user) { return false }
            if user.withUnsafeBufferPointer({ b in live?.state.withUser(b) { $0?.forgotten } }) == true { return false }
            if let cluster, !user.withUnsafeBufferPointer({ cluster.owns($0) }) { return false }
            guard let item, let u = user.withUnsafeBufferPointer({ index.users.lookup($0) }) else { return true }
            return !index.bought(user: u, item: item)
        }.map { (user: $0.key, time: $0.value) }
        guard let cluster else {
            if item == nil && rows.isEmpty { unknownReplies += 1 }
            Self.encodeAudience(rows, k: k, now: now, unknown: item == nil, encoder, meta: wantsMeta, into: &out)
            return .keepOpen
        }
        if replicating {
            encoder.write(.array(rows.flatMap { [Reply.bulk($0.user), .text(String($0.time))] }), into: &out)
            return .keepOpen
        }
        let args = (0..<request.count).map { Array(request[$0]) }
        let meta = wantsMeta, unknown = item == nil
        return .deferredReply {
            var bytes: [UInt8] = []
            do throws(CommandError) {
                var all = rows
                for (user, time) in try cluster.gather(args, from: cluster.otherPrimaries) {
                    if case .bulk(let u?) = user, let t = time.text.flatMap({ Int64($0) }) { all.append((u, t)) }
                }
                Self.encodeAudience(all, k: k, now: now, unknown: unknown, encoder, meta: meta, into: &bytes)
            } catch {
                encoder.error(error.code, error.message, into: &bytes)
            }
            return bytes
        }
    }

    /// The newest interest first (ties by id), as days before `now`.
    static func encodeAudience(_ rows: [(user: [UInt8], time: Int64)], k: Int, now: Int64, unknown: Bool, _ encoder: ReplyEncoder,
                               meta: Bool, into out: inout [UInt8]) {
        let sorted = rows.sorted { $0.time != $1.time ? $0.time > $1.time : $0.user.lexicographicallyPrecedes($1.user) }
        var names = ByteInterner()
        var result = ResultList()
        for (user, t) in sorted.prefix(k) {
            let id = user.withUnsafeBufferPointer { names.intern($0) }
            result.append(id, Float(Double(max(0, now.saturatingMinus(t))) / 86_400))
        }
        if unknown && rows.isEmpty { result.unknownSubject = true }
        encoder.recommendations(result, names: names, meta: meta, into: &out)
    }

    /// `EXPERIMENT name`: each variant's requests, clicks and purchases.
    /// In a cluster every node counts what it served (REC where it ran,
    /// clicks and purchases where their EVENT was logged), so the node asked
    /// adds up every other node's counts.
    func experimentCounts(_ request: Request, _ encoder: ReplyEncoder, _ out: inout [UInt8]) throws(CommandError) -> Action {
        let experiment = try experiment(named: request[1])
        var fields: [(String, Int)] = []
        let counts = stats.experiments.snapshot(experiment.name)
        for v in experiment.variants {
            let c = counts[v.name] ?? ExperimentCounters.Counts()
            fields += [("\(v.name):requests", c.requests), ("\(v.name):clicks", c.clicks), ("\(v.name):purchases", c.purchases)]
        }
        guard let cluster = passOn else {
            encoder.fields(fields.map { ($0.0, String($0.1)) }, into: &out)
            return .keepOpen
        }
        let args = [Array("EXPERIMENT".utf8), Array(request[1])]
        let local = fields
        return .deferredReply {
            var bytes: [UInt8] = []
            do throws(CommandError) {
                var total = local
                for (field, count) in try cluster.gather(args, from: cluster.otherNodes) {
                    if let name = field.text, let n = count.text.flatMap({ Int($0) }), let at = total.firstIndex(where: { $0.0 == name }) {
                        total[at].1 += n
                    }
                }
                encoder.fields(total.map { ($0.0, String($0.1)) }, into: &bytes)
            } catch {
                encoder.error(error.code, error.message, into: &bytes)
            }
            return bytes
        }
    }

    func segment(_ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder, _ out: inout [UInt8]) {
        let rules = config.segmentRules
        if ByteParsing.equalsLowercase(request[1], "count") {
            var counts: [String: Int] = [:]
            for (u, v) in index.rfm.values.enumerated() where index.isVisible(UInt32(u)) {
                guard let v else { continue }
                let s = index.rfm.scores(v)
                counts[rules.segment(r: s.r, f: s.f, m: s.m), default: 0] += 1
            }
            let ordered = rules.rules.map(\.name) + ["other"]
            encoder.fields(ordered.compactMap { name in counts[name].map { (name, String($0)) } }, into: &out)
            return
        }
        withMember(request[1]) { user in
            let id = index.users.lookup(user)
            var values = id.flatMap { index.rfm.values[Int($0)] }
            // Live purchases move the user's RFM at once; FORGET drops the snapshot's.
            var times: [Int64] = [], spent = 0.0
            live?.state.withUser(user) { u in
                if u?.forgotten == true { values = nil }
                for e in u?.events ?? [] where e.type == .purchase {
                    times.append(e.time)
                    let item = e.item.withUnsafeBufferPointer { index.items.lookup($0) }
                    let price = item.map { index.catalog.price[Int($0)] } ?? .nan
                    if !price.isNaN { spent += Double(e.quantity) * Double(price) }
                }
            }
            if !times.isEmpty {
                let extra = RFMTable.values(purchaseTimes: times.filter { t in values.map { t.saturatingMinus($0.lastPurchase) >= Repurchase.sameVisit } ?? true },
                                            monetary: spent)
                values = RFMTable.Values(lastPurchase: max(values?.lastPurchase ?? Int64.min, times.max()!),
                                         orders: (values?.orders ?? 0) + extra.orders, monetary: (values?.monetary ?? 0) + spent)
            }
            guard let v = values else {
                encoder.fields([("segment", "none"), ("reason", id == nil && times.isEmpty ? "unknown user" : "no purchases")], into: &out)
                return
            }
            let s = index.rfm.scores(v)
            let days = max(0, referenceNow(index).saturatingMinus(v.lastPurchase) / 86_400)
            encoder.fields([("segment", rules.segment(r: s.r, f: s.f, m: s.m)), ("r", String(s.r)), ("f", String(s.f)),
                            ("m", String(s.m)), ("recency_days", String(days)), ("orders", String(v.orders)),
                            ("monetary", String(format: "%.2f", v.monetary))], into: &out)
        }
    }
}
