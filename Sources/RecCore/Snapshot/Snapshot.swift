/// A parsed snapshot directory: the events, the catalog, and what was skipped.
public struct Snapshot: Sendable {
    public var events: EventTable
    public var catalog: Catalog
    public var report: LoadReport
    /// Item vectors from `embeddings.tsv`, when the snapshot has them.
    public var embeddings: EmbeddingTable?

    public init(events: EventTable, catalog: Catalog = Catalog(), report: LoadReport = LoadReport()) {
        self.events = events
        self.catalog = catalog
        self.report = report
        self.catalog.ensureCount(events.items.count)
    }
}
