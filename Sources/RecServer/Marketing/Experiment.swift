import RecCore
import Synchronization

/// An A/B experiment from config: named variants with weights and the
/// recommendation settings each serves. A user's variant is a pure
/// function of the experiment name and user id (a 64-bit hash into the
/// weights), so it is the same on every server and after every restart.
public struct Experiment: Sendable, Equatable {
    public struct Variant: Sendable, Equatable {
        public var name: String
        public var weight: Int
        public var mode: RecMode?
        public var hybridWeight: Float?
    }

    public var name: String
    public var variants: [Variant]

    /// `NAME variant:weight[:mode=hybrid,hybrid-weight=0.5] variant:weight ...`
    public init(_ text: String) throws(ConfigError) {
        let words = text.split(separator: " ").map(String.init)
        func bad(_ what: String) -> ConfigError {
            .badValue(name: "experiment", value: text, expected: what, origin: "experiment")
        }
        guard words.count >= 3 else { throw bad("a name and at least two variants: NAME a:50 b:50[:mode=hybrid]") }
        name = words[0]
        variants = []
        for w in words.dropFirst() {
            let parts = w.split(separator: ":", maxSplits: 2).map(String.init)
            // Capped so the weights' sum cannot overflow when a user is bucketed.
            guard parts.count >= 2, !parts[0].isEmpty, let weight = Int(parts[1]), (1...1_000_000).contains(weight) else {
                throw bad("variant:weight with an integer weight from 1 to 1000000, got '\(w)'")
            }
            var v = Variant(name: parts[0], weight: weight, mode: nil, hybridWeight: nil)
            if parts.count == 3 {
                for setting in parts[2].split(separator: ",") {
                    let kv = setting.split(separator: "=").map(String.init)
                    guard kv.count == 2 else { throw bad("settings like mode=hybrid,hybrid-weight=0.5, got '\(setting)'") }
                    switch kv[0] {
                    case "mode":
                        guard let m = ["cf": RecMode.cf, "vec": .vec, "hybrid": .hybrid][kv[1]] else { throw bad("mode cf, vec or hybrid") }
                        v.mode = m
                    case "hybrid-weight":
                        guard let x = Float(kv[1]), (0...1).contains(x) else { throw bad("hybrid-weight from 0 to 1") }
                        v.hybridWeight = x
                    default:
                        throw bad("variant settings mode and hybrid-weight, got '\(kv[0])'")
                    }
                }
            }
            guard !variants.contains(where: { $0.name == v.name }) else { throw bad("distinct variant names") }
            variants.append(v)
        }
    }

    /// The variant for `user`: FNV-1a of name, a zero byte and the user id,
    /// reduced into the cumulative weights.
    public func variant(for user: UnsafeBufferPointer<UInt8>) -> Variant {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h = (h ^ 0) &* 0x100_0000_01B3
        for b in user { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        // A final mix so nearby ids spread over the whole range.
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        let total = variants.reduce(0) { $0 + $1.weight }
        var slot = Int(h % UInt64(total))
        for v in variants {
            if slot < v.weight { return v }
            slot -= v.weight
        }
        return variants[variants.count - 1]
    }
}

/// Requests, clicks (views and carts) and purchases per experiment variant,
/// counted in memory since start.
public final class ExperimentCounters: Sendable {
    public struct Counts: Sendable, Equatable {
        public var requests = 0, clicks = 0, purchases = 0
    }

    private let counts = Mutex<[String: [String: Counts]]>([:])

    public init() {}

    func add(_ experiment: String, _ variant: String, _ change: (inout Counts) -> Void) {
        counts.withLock { all in change(&all[experiment, default: [:]][variant, default: Counts()]) }
    }

    public func snapshot(_ experiment: String) -> [String: Counts] { counts.withLock { $0[experiment] ?? [:] } }
}
