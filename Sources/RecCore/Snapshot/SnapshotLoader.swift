import Dispatch
import Foundation

/// Reads a snapshot directory: `items.tsv` (optional) then `events.tsv`.
///
/// Rows are parsed from bytes in place; a row that cannot be used is counted
/// and sampled in the `LoadReport` instead of failing the load, but a file
/// without its required columns, or with no usable row at all, fails it.
public enum SnapshotLoader {
    public static let eventsFile = "events.tsv"
    public static let itemsFile = "items.tsv"
    public static let embeddingsFile = "embeddings.tsv"
    public static let embeddingsBinaryFile = "embeddings.f32"

    static let userColumn = ["user", "user_id", "userid", "visitor", "visitorid", "customer", "customer_id"]
    static let itemColumn = ["item", "item_id", "itemid", "product", "product_id", "sku", "stock_code"]
    static let typeColumn = ["type", "event", "event_type"]
    static let timeColumn = ["timestamp", "ts", "time", "date"]
    static let quantityColumn = ["quantity", "qty"]

    /// `parts`: threads for parsing events.tsv, 0 for one per core (a reload
    /// while serving passes its `reload-shards`).
    public static func load(directory: String, parts: Int = 0) throws(SnapshotError) -> Snapshot {
        guard FileBytes.isDirectory(directory) else { throw .directoryNotFound(path: directory) }
        var events = EventTable()
        var catalog = Catalog()
        var report = LoadReport()
        let itemsPath = directory + "/" + itemsFile
        if FileBytes.exists(itemsPath) {
            let bytes = try readFile(itemsPath)
            try loadItems(bytes, path: itemsPath, items: &events.items, catalog: &catalog, report: &report)
        }
        let eventsPath = directory + "/" + eventsFile
        try loadEvents(path: eventsPath, into: &events, report: &report, parts: parts)
        var snapshot = Snapshot(events: events, catalog: catalog, report: report)
        let embeddingsPath = directory + "/" + embeddingsFile
        let binaryPath = directory + "/" + embeddingsBinaryFile
        if FileBytes.exists(embeddingsPath) {
            let bytes = try readFile(embeddingsPath)
            snapshot.embeddings = try EmbeddingTable.parse(bytes, path: embeddingsPath, items: &snapshot.events.items)
        } else if FileBytes.exists(binaryPath) {
            let bytes = try readFile(binaryPath)
            snapshot.embeddings = try EmbeddingTable.parseBinary(bytes, path: binaryPath, items: &snapshot.events.items)
        }
        snapshot.catalog.ensureCount(snapshot.events.items.count)
        return snapshot
    }

    static func readFile(_ path: String) throws(SnapshotError) -> [UInt8] {
        do {
            return try FileBytes.read(path)
        } catch {
            throw snapshotError(error)
        }
    }

    static func snapshotError(_ failure: FileBytes.Failure) -> SnapshotError {
        switch failure {
        case .notFound(let p): .fileMissing(path: p)
        case .unreadable(let p, let e): .unreadable(path: p, errno: e)
        }
    }

    /// Parses `events.tsv` content in one part: the reference the streamed,
    /// parallel `loadEvents(path:...)` is tested against, and its fallback
    /// for files of unknown size (pipes, /proc).
    public static func loadEvents(_ bytes: [UInt8], path: String, into events: inout EventTable,
                                  report: inout LoadReport) throws(SnapshotError) {
        let result: Result<Void, SnapshotError> = bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            let columns: EventColumns
            switch eventColumns(&scanner, path: path) {
            case .success(let c): columns = c
            case .failure(let e): return .failure(e)
            }
            nonisolated(unsafe) let body = UnsafeBufferPointer(rebasing: buf[scanner.position...])
            return parseParts(1, path: path, firstLine: scanner.line, into: &events, report: &report) { _, part in
                part.table.reserve(body.count / 40)
                parseRows(body, columns, path: path, into: &part.table, report: &part.report)
            }
        }
        try result.get()
    }

    /// The header row's event columns, or the error naming what is missing.
    static func eventColumns(_ scanner: inout TSVScanner, path: String) -> Result<EventColumns, SnapshotError> {
        guard scanner.next() else { return .failure(.emptyFile(path: path)) }
        let header = ColumnMap(header: scanner)
        guard let columns = EventColumns(header) else {
            var missing: [String] = []
            if header.index(userColumn) == nil { missing.append("user") }
            if header.index(itemColumn) == nil { missing.append("item") }
            if header.index(typeColumn) == nil { missing.append("type") }
            if header.index(timeColumn) == nil { missing.append("timestamp") }
            return .failure(.missingColumns(path: path, missing: missing, found: header.names))
        }
        return .success(columns)
    }

    static func partCount(_ bodyBytes: Int, _ requested: Int) -> Int {
        let cores = requested > 0 ? requested : ProcessInfo.processInfo.activeProcessorCount
        return min(cores, max(1, bodyBytes / minimumPartBytes))
    }

    /// Runs `parse(p, table)` for every part on its own thread, then merges
    /// the tables in part order into `events` (part 0 parses straight into
    /// it, so ids items.tsv assigned stay first) and the reports with their
    /// line numbers shifted to the file's (`firstLine`: lines before the body).
    static func parseParts(_ count: Int, path: String, firstLine: Int, into events: inout EventTable,
                           report: inout LoadReport,
                           _ parse: @Sendable (Int, PartTable) -> Void) -> Result<Void, SnapshotError> {
        let tables = (0..<count).map { p in PartTable(p == 0 ? events : EventTable()) }
        events = EventTable()
        BuildThreads.run(count) { p in parse(p, tables[p]) }
        if let failure = tables.lazy.compactMap(\.failure).first { return .failure(failure) }
        // Moved out, not shared: absorbing into a table whose arrays the
        // part still referenced copied every column first.
        events = tables[0].table
        tables[0].table = EventTable()
        var local = LoadReport()
        var lineBase = firstLine
        for part in tables {
            if part !== tables[0] { events.absorb(part.table) }
            local.absorb(part.report, lineOffset: lineBase)
            lineBase += part.report.linesScanned
        }
        report.absorb(local)
        if events.count == 0 {
            return .failure(.noUsableRows(path: path, rejected: local.rowsRejected, samples: local.samples))
        }
        return .success(())
    }

    /// Parts smaller than this are not worth a thread.
    static let minimumPartBytes = 1 << 20

    /// Where the columns an event needs sit in a header.
    struct EventColumns: Sendable {
        let user: Int, item: Int, type: Int, time: Int
        let quantity: Int?
        /// Fields a row needs to hold all of them.
        let needed: Int

        init?(_ header: ColumnMap) {
            guard let u = header.index(userColumn), let i = header.index(itemColumn),
                  let t = header.index(typeColumn), let ts = header.index(timeColumn) else { return nil }
            user = u
            item = i
            type = t
            time = ts
            quantity = header.index(quantityColumn)
            needed = max(u, i, t, ts, quantity ?? 0) + 1
        }
    }

    /// One part's parse output; each part's thread writes only its own.
    final class PartTable: @unchecked Sendable {
        var table: EventTable
        var report = LoadReport()
        /// Set when reading the part's bytes failed.
        var failure: SnapshotError?
        init(_ table: EventTable) { self.table = table }
    }

    /// Parses data rows (no header); line numbers in `report` count from 1 at
    /// the start of `bytes`, and `report.linesScanned` says how many it saw.
    static func parseRows(_ bytes: UnsafeBufferPointer<UInt8>, _ columns: EventColumns, path: String,
                          into events: inout EventTable, report local: inout LoadReport) {
        var scanner = TSVScanner(bytes: bytes)
        let u = columns.user, i = columns.item, t = columns.type, ts = columns.time
        // Exports list a user's events together (an order's lines, a
        // session's clicks): the previous row's user is checked before the
        // hash table.
        var lastUser = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var lastUid: UInt32 = 0
        var lastTime = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var lastSeconds: Int64 = 0
        var batch = RowBatch()
        // Ids saved by recd may hold escaped tabs and line ends (TSVEscape);
        // one scan of the part spares every field the check when none do.
        let escaped = TSVEscape.mayHoldEscapes(bytes)
        var scratch: [UInt8] = []
        while scanner.next() {
            local.rowsRead += 1
            if scanner.fieldCount < columns.needed {
                local.reject(path, scanner.line, "expected \(columns.needed) fields, found \(scanner.fieldCount)")
                continue
            }
            let userBytes = scanner.field(u), itemBytes = scanner.field(i)
            if userBytes.isEmpty { local.reject(path, scanner.line, "empty user"); continue }
            if itemBytes.isEmpty { local.reject(path, scanner.line, "empty item"); continue }
            guard let type = EventType.parse(scanner.field(t)) else {
                local.reject(path, scanner.line, "unknown event type '\(String(decoding: scanner.field(t), as: UTF8.self))' (use view, cart or purchase)")
                continue
            }
            // An order's lines share one time, too: reuse the last parse.
            let timeBytes = scanner.field(ts)
            let time: Int64
            if timeBytes.count == lastTime.count, timeBytes.count > 0,
               memcmpBytes(timeBytes.baseAddress!, lastTime.baseAddress!, timeBytes.count) {
                time = lastSeconds
            } else {
                guard let t = Timestamp.parse(timeBytes) else {
                    local.reject(path, scanner.line, "bad timestamp '\(String(decoding: timeBytes, as: UTF8.self))' (use ISO 8601 or Unix seconds)")
                    continue
                }
                guard ValueRanges.isValidTime(t) else {
                    local.reject(path, scanner.line, "timestamp '\(String(decoding: timeBytes.prefix(32), as: UTF8.self))' is outside 1970-01-01 to 9999-12-31")
                    continue
                }
                time = t
                lastTime = timeBytes
                lastSeconds = t
            }
            var quantity: Float = 1
            if let q = columns.quantity {
                let field = scanner.field(q)
                if !field.isEmpty {
                    guard let v = ByteParsing.parseDouble(field), v.isFinite else {
                        local.reject(path, scanner.line, "bad quantity '\(String(decoding: field, as: UTF8.self))'")
                        continue
                    }
                    guard v > 0 else {
                        local.reject(path, scanner.line, "quantity \(v) is not positive (leave returns out of the snapshot)")
                        continue
                    }
                    guard ValueRanges.isValidQuantity(v) else {
                        local.reject(path, scanner.line, "quantity \(v) is above \(Int(ValueRanges.maxQuantity))")
                        continue
                    }
                    quantity = Float(v)
                }
            }
            let uid: UInt32
            if userBytes.count == lastUser.count, memcmpBytes(userBytes.baseAddress!, lastUser.baseAddress!, userBytes.count) {
                uid = lastUid
            } else {
                uid = escaped ? TSVEscape.withUnescaped(userBytes, scratch: &scratch) { events.users.intern($0) }
                    : events.users.intern(userBytes)
                lastUser = userBytes
                lastUid = uid
            }
            let iid = escaped ? TSVEscape.withUnescaped(itemBytes, scratch: &scratch) { events.items.intern($0) }
                : events.items.intern(itemBytes)
            batch.add(user: uid, item: iid, type: type, time: time, quantity: quantity, flushingInto: &events)
        }
        batch.flush(into: &events)
        local.linesScanned = scanner.line
    }

    /// Parses `items.tsv` content: `item [title] [category] [price] [instock]`.
    public static func loadItems(_ bytes: [UInt8], path: String, items: inout ByteInterner,
                                 catalog: inout Catalog, report: inout LoadReport) throws(SnapshotError) {
        let result: Result<Void, SnapshotError> = bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            guard scanner.next() else { return .failure(.emptyFile(path: path)) }
            let columns = ColumnMap(header: scanner)
            guard let i = columns.index(itemColumn) else {
                return .failure(.missingColumns(path: path, missing: ["item"], found: columns.names))
            }
            let title = columns.index(["title", "name", "description"])
            let category = columns.index(["category", "categories", "genre", "genres"])
            let price = columns.index(["price", "unit_price"])
            let stock = columns.index(["instock", "in_stock", "available"])
            var local = LoadReport()
            var scratch: [UInt8] = []
            while scanner.next() {
                local.rowsRead += 1
                let n = scanner.fieldCount
                if n <= i || scanner.field(i).isEmpty {
                    local.reject(path, scanner.line, "missing item id")
                    continue
                }
                var priceValue: Float?
                if let price, price < n, !scanner.field(price).isEmpty {
                    guard let v = ByteParsing.parseDouble(scanner.field(price)), ValueRanges.isValidPrice(v) else {
                        local.reject(path, scanner.line, "bad price '\(String(decoding: scanner.field(price).prefix(32), as: UTF8.self))' (a number from 0 to 1e12)")
                        continue
                    }
                    priceValue = Float(v)
                }
                var inStock: Bool?
                if let stock, stock < n, !scanner.field(stock).isEmpty {
                    guard let v = parseBool(scanner.field(stock)) else {
                        local.reject(path, scanner.line, "bad instock '\(String(decoding: scanner.field(stock), as: UTF8.self))' (use 1 or 0)")
                        continue
                    }
                    inStock = v
                }
                let id = TSVEscape.withUnescaped(scanner.field(i), scratch: &scratch) { items.intern($0) }
                catalog.ensureCount(Int(id) + 1)
                if let title, title < n {
                    TSVEscape.withUnescaped(scanner.field(title), scratch: &scratch) { catalog.setTitle(id, $0) }
                }
                if let category, category < n {
                    TSVEscape.withUnescaped(scanner.field(category), scratch: &scratch) { catalog.setCategory(id, $0) }
                }
                if let priceValue { catalog.setPrice(id, priceValue) }
                if let inStock { catalog.setInStock(id, inStock) }
            }
            report.absorb(local)
            return .success(())
        }
        try result.get()
    }

    public static func parseBool(_ s: UnsafeBufferPointer<UInt8>) -> Bool? {
        if s.count == 1 {
            if s[0] == UInt8(ascii: "1") { return true }
            if s[0] == UInt8(ascii: "0") { return false }
            return nil
        }
        if ByteParsing.equalsLowercase(s, "true") || ByteParsing.equalsLowercase(s, "yes") { return true }
        if ByteParsing.equalsLowercase(s, "false") || ByteParsing.equalsLowercase(s, "no") { return false }
        return nil
    }
}
