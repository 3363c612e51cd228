#if canImport(Glibc)
import Glibc
#endif

/// Writes a snapshot directory atomically: files go into `<dir>.tmp`, are
/// fsynced, and the directory is renamed into place, so a reader (or a
/// restart) sees the old snapshot or the whole new one, never a part.
public enum SnapshotWriter {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case cannotWrite(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .cannotWrite(let p, let e): "cannot write \(p) (\(String(cString: strerror(e))))"
            }
        }
    }

    /// `events` minus the users in `skipping`, then `live` events; the
    /// catalog of `index` (with its live changes) as items.tsv; the item
    /// vectors the snapshot was given (their ids named by the interner
    /// beside them) as embeddings.f32.
    public static func write(directory: String, events: EventTable, skipping: Set<[UInt8]>,
                             live: [([UInt8], LiveEvent)], index: RecIndex,
                             embeddings: (EmbeddingTable, ByteInterner)? = nil) throws(Failure) {
        var out: [UInt8] = Array("user\titem\ttype\ttimestamp\tquantity\n".utf8)
        out.reserveCapacity(events.count * 40)
        var skip = [Bool](repeating: false, count: events.users.count)
        for name in skipping {
            if let u = name.withUnsafeBufferPointer({ events.users.lookup($0) }) { skip[Int(u)] = true }
        }
        for e in 0..<events.count where !skip[Int(events.user[e])] {
            events.users.withName(events.user[e]) { TSVEscape.append($0, to: &out) }
            out.append(0x09)
            events.items.withName(events.item[e]) { TSVEscape.append($0, to: &out) }
            row(type: events.type[e], time: events.time[e], quantity: events.quantity[e], into: &out)
        }
        for (user, e) in live {
            TSVEscape.append(user, to: &out)
            out.append(0x09)
            TSVEscape.append(e.item, to: &out)
            row(type: e.type, time: e.time, quantity: e.quantity, into: &out)
        }
        var items: [UInt8] = Array("item\ttitle\tcategory\tprice\tinstock\n".utf8)
        let catalog = index.catalog
        for i in 0..<UInt32(index.itemCount) {
            index.items.withName(i) { TSVEscape.append($0, to: &items) }
            items.append(0x09)
            TSVEscape.append(catalog.title(i).utf8, to: &items)
            items.append(0x09)
            let c = catalog.category[Int(i)]
            if c != Catalog.noCategory { catalog.categories.withName(c) { TSVEscape.append($0, to: &items) } }
            items.append(0x09)
            let p = catalog.price[Int(i)]
            if !p.isNaN { items.append(contentsOf: String(p).utf8) }
            items.append(0x09)
            items.append(catalog.inStock[Int(i)] ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            items.append(0x0A)
        }
        let temporary = directory + ".tmp"
        removeTree(temporary)
        guard mkdir(temporary, 0o755) == 0 else { throw .cannotWrite(path: temporary, errno: errno) }
        var files = [(SnapshotLoader.eventsFile, out), (SnapshotLoader.itemsFile, items)]
        if let (table, names) = embeddings { files.append((SnapshotLoader.embeddingsBinaryFile, binary(table, names))) }
        for (name, bytes) in files {
            let path = temporary + "/" + name
            guard EventLog.writeWhole(bytes, to: path) else { throw .cannotWrite(path: path, errno: errno) }
        }
        EventLog.syncDirectory(of: temporary + "/x")
        removeTree(directory)
        guard rename(temporary, directory) == 0 else { throw .cannotWrite(path: directory, errno: errno) }
        EventLog.syncDirectory(of: directory)
    }

    static func row(type: EventType, time: Int64, quantity: Float, into out: inout [UInt8]) {
        out.append(0x09)
        out.append(contentsOf: type.name.utf8)
        out.append(0x09)
        out.append(contentsOf: String(time).utf8)
        out.append(0x09)
        // Whole quantities print without ".0"; the loader caps them at 1e9,
        // but a Float beyond Int's range must never reach Int(_:).
        let whole = quantity == quantity.rounded() && abs(quantity) < 1e15
        out.append(contentsOf: (whole ? String(Int64(quantity)) : String(quantity)).utf8)
        out.append(0x0A)
    }

    /// `EmbeddingTable.parseBinary`'s format: `RECDVEC1`, u32 dimension and
    /// count, then per row a u32 id length, the id and the float32 values.
    static func binary(_ table: EmbeddingTable, _ names: ByteInterner) -> [UInt8] {
        var out = EmbeddingTable.binaryMagic
        func put32(_ v: UInt32) { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
        put32(UInt32(table.dimension))
        put32(UInt32(table.count))
        for row in 0..<table.count {
            names.withName(table.items[row]) { name in
                put32(UInt32(name.count))
                out.append(contentsOf: name)
            }
            for x in 0..<table.dimension { put32(table.values[row * table.dimension + x].bitPattern) }
        }
        return out
    }

    /// Removes a directory of plain files (a stale temporary or an old copy).
    static func removeTree(_ path: String) {
        for name in [SnapshotLoader.eventsFile, SnapshotLoader.itemsFile, SnapshotLoader.embeddingsFile,
                     SnapshotLoader.embeddingsBinaryFile] { unlink(path + "/" + name) }
        rmdir(path)
    }
}
