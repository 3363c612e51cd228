import Foundation
import RecCore

/// The marketing jobs: segments, lookalikes, audiences, experiments.
extension CommandHandler {
    func segment(_ request: Request, _ index: RecIndex, _ encoder: ReplyEncoder, _ out: inout [UInt8]) {
        let rules = config.segmentRules
        if ByteParsing.equalsLowercase(request[1], "count") {
            var counts: [String: Int] = [:]
            for v in index.rfm.values.compactMap({ $0 }) {
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
            let forgotten = live?.state.withUser(user) { $0?.forgotten } ?? false
            if forgotten == true { values = nil }
            // Live purchases move the user's RFM at once.
            var times: [Int64] = [], spent = 0.0
            live?.state.withUser(user) { u in
                for e in u?.events ?? [] where e.type == .purchase {
                    times.append(e.time)
                    let item = e.item.withUnsafeBufferPointer { index.items.lookup($0) }
                    let price = item.map { index.catalog.price[Int($0)] } ?? .nan
                    if !price.isNaN { spent += Double(e.quantity) * Double(price) }
                }
            }
            if !times.isEmpty {
                let extra = RFMTable.values(purchaseTimes: times.filter { t in values.map { t - $0.lastPurchase >= Repurchase.sameVisit } ?? true },
                                            monetary: spent)
                values = RFMTable.Values(lastPurchase: max(values?.lastPurchase ?? Int64.min, times.max()!),
                                         orders: (values?.orders ?? 0) + extra.orders, monetary: (values?.monetary ?? 0) + spent)
            }
            guard let v = values else {
                encoder.fields([("segment", "none"), ("reason", id == nil && times.isEmpty ? "unknown user" : "no purchases")], into: &out)
                return
            }
            let s = index.rfm.scores(v)
            let days = max(0, (referenceNow(index) - v.lastPurchase) / 86_400)
            encoder.fields([("segment", rules.segment(r: s.r, f: s.f, m: s.m)), ("r", String(s.r)), ("f", String(s.f)),
                            ("m", String(s.m)), ("recency_days", String(days)), ("orders", String(v.orders)),
                            ("monetary", String(format: "%.2f", v.monetary))], into: &out)
        }
    }
}
