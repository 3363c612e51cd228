/// How a build went: sizes and the time each phase took, for `INFO`,
/// logs and `recbench build`.
public struct BuildStats: Sendable {
    public var events = 0
    public var users = 0
    public var items = 0
    public var historyEntries = 0
    public var neighborEntries = 0
    public var shards = 0
    /// Seconds per phase, in the order they ran.
    public var phases: [(name: String, seconds: Double)] = []
    /// With `similarity auto`: the candidates and the one chosen.
    public var selection: ModelSelection.Outcome?

    /// Wall time of the whole build; less than the phases' sum where phases
    /// ran side by side.
    public var wallSeconds: Double = 0

    public var totalSeconds: Double { wallSeconds > 0 ? wallSeconds : phases.reduce(0) { $0 + $1.seconds } }

    public init() {}

    mutating func time<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let start = ContinuousClock.now
        let result = try body()
        phases.append((name, (ContinuousClock.now - start).inSeconds))
        return result
    }
}
