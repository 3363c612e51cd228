import Synchronization

/// Holds the index generation being served. Swapping in a new generation is
/// one reference store; readers notice through a version counter and pick up
/// the new reference, so the steady-state read path takes no lock.
public final class IndexStore: Sendable {
    private let current: Mutex<RecIndex>
    private let versionCounter = Atomic<Int>(0)

    public init(_ index: RecIndex) {
        current = Mutex(index)
    }

    /// Changes whenever `swap` installs a new index.
    public var version: Int { versionCounter.load(ordering: .acquiring) }

    public func load() -> RecIndex { current.withLock { $0 } }

    public func swap(_ index: RecIndex) {
        current.withLock { $0 = index }
        versionCounter.add(1, ordering: .releasing)
    }

    /// Replaces the index with `transform(current)`, serialised with every
    /// other update, so concurrent catalog changes and a reload's swap never
    /// lose one another.
    public func update(_ transform: (RecIndex) -> RecIndex) {
        current.withLock { $0 = transform($0) }
        versionCounter.add(1, ordering: .releasing)
    }
}

/// A per-thread cached view of the store: checks one atomic per command
/// and takes the lock only when the version moved.
public struct IndexView {
    public let store: IndexStore
    public private(set) var index: RecIndex
    private var version: Int

    public init(store: IndexStore) {
        self.store = store
        version = store.version
        index = store.load()
    }

    public mutating func refresh() {
        let v = store.version
        if v != version {
            version = v
            index = store.load()
        }
    }
}
