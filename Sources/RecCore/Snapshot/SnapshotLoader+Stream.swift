#if canImport(Glibc)
import Glibc
#endif

/// events.tsv straight from the file: each part's thread reads its own
/// line-aligned byte range through a small buffer it reuses, instead of the
/// whole file being read into memory first.
///
/// Why: reading a whole file into fresh memory costs a page fault per 4 KB,
/// in series, before parsing starts (Online Retail's parse: 0.035-0.048 ->
/// 0.024-0.036 s in this VM), and a large snapshot's file (424 MB for 10M
/// events) would sit in memory beside the tables parsed from it. Parsed
/// rows, ids, line numbers and errors are those of
/// `loadEvents(_:path:into:report:)` on the same bytes. Names are
/// re-interned part by part as the parts merge, so ids come out in order of
/// first appearance exactly as a sequential parse gives them.
extension SnapshotLoader {
    /// Falls back to reading the whole file when its size is unknown
    /// (pipes, /proc) or it is empty.
    static func loadEvents(path: String, into events: inout EventTable, report: inout LoadReport,
                           parts requestedParts: Int = 0, chunkBytes: Int = 1 << 20) throws(SnapshotError) {
        let fd: Int32, st: stat
        do {
            (fd, st) = try FileBytes.open(path)
        } catch {
            throw snapshotError(error)
        }
        defer { close(fd) }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else {
            try loadEvents(readFile(path), path: path, into: &events, report: &report)
            return
        }
        let size = Int(st.st_size)
        let file = EventFile(fd: fd, size: size, path: path)
        // The header: the first non-blank line, read whole.
        let headerEnd = try file.lineStart(atOrAfter: 1, chunk: 64 << 10, headerSearch: true)
        let head = try file.read(0..<headerEnd)
        let start: Result<(EventColumns, Int, Int), SnapshotError> = head.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            return eventColumns(&scanner, path: path).map { ($0, scanner.position, scanner.line) }
        }
        let (columns, bodyStart, headerLines) = try start.get()
        // Cuts at line starts, so no line crosses a part.
        let count = partCount(size - bodyStart, requestedParts)
        var cuts = [bodyStart]
        for p in 1..<count {
            cuts.append(max(cuts[p - 1], try file.lineStart(atOrAfter: bodyStart + (size - bodyStart) * p / count, chunk: 64 << 10)))
        }
        cuts.append(size)
        let ranges = (0..<count).map { cuts[$0]..<cuts[$0 + 1] }
        let result = parseParts(count, path: path, firstLine: headerLines, into: &events, report: &report) { p, part in
            // Part 0 absorbs the others, so it reserves room for the whole
            // file: growing it there copied its columns into fresh memory
            // (pages never written cost nothing).
            part.table.reserve((p == 0 ? size - bodyStart : ranges[p].count) / 40)
            do throws(SnapshotError) {
                try file.parse(ranges[p], chunkBytes: chunkBytes, columns: columns, into: part)
            } catch {
                part.failure = error
            }
        }
        try result.get()
    }

    /// An open events file; reads with pread, so threads share the descriptor.
    struct EventFile: Sendable {
        let fd: Int32
        let size: Int
        let path: String

        func read(_ range: Range<Int>) throws(SnapshotError) -> [UInt8] {
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: range.count) { buffer, count in
                count = FileBytes.read(fd, range, into: buffer.baseAddress!, failure: &failure)
            }
            if failure != 0 { throw .unreadable(path: path, errno: failure) }
            return bytes
        }

        /// The first line start at or after `offset` (the file's size when
        /// none): `offset` itself when the byte before it ends a line. With
        /// `headerSearch` (and `offset` 1), the end of the first line with
        /// content after an optional byte-order mark, as TSVScanner reads it.
        func lineStart(atOrAfter offset: Int, chunk: Int, headerSearch: Bool = false) throws(SnapshotError) -> Int {
            var at = offset - 1
            var sawContent = false
            var markEnd = 0
            while at < size {
                let block = try read(at..<min(size, at + chunk))
                if block.isEmpty { return size }
                if headerSearch && at == 0 && block.starts(with: [0xEF, 0xBB, 0xBF]) { markEnd = 3 }
                for (x, b) in block.enumerated() {
                    if b == 0x0A {
                        if !headerSearch || sawContent { return at + x + 1 }
                    } else if headerSearch && b != 0x0D && at + x >= markEnd {
                        sawContent = true
                    }
                }
                at += block.count
            }
            return size
        }

        /// Parses the lines of `range` (line-aligned) through one reused
        /// buffer, carrying a line cut by a chunk's end into the next chunk.
        func parse(_ range: Range<Int>, chunkBytes: Int, columns: EventColumns, into part: PartTable) throws(SnapshotError) {
            var buffer = [UInt8](repeating: 0, count: max(64, chunkBytes))
            var carried = 0
            var at = range.lowerBound
            var failure: Int32 = 0
            while at < range.upperBound || carried > 0 {
                if carried == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a line longer than the buffer
                let want = min(buffer.count - carried, range.upperBound - at)
                let got = buffer.withUnsafeMutableBufferPointer {
                    FileBytes.read(fd, at..<(at + want), into: $0.baseAddress! + carried, failure: &failure)
                }
                if failure != 0 { throw .unreadable(path: path, errno: failure) }
                at += got
                let filled = carried + got
                let last = at >= range.upperBound || got < want
                // Whole lines only, unless this is the range's (or file's) end.
                var end = filled
                if !last {
                    while end > 0 && buffer[end - 1] != 0x0A { end -= 1 }
                    if end == 0 {
                        carried = filled
                        continue
                    }
                }
                var chunk = LoadReport()
                buffer.withUnsafeBufferPointer { b in
                    parseRows(UnsafeBufferPointer(rebasing: b[0..<end]), columns, path: path, into: &part.table, report: &chunk)
                }
                part.report.absorb(chunk, lineOffset: part.report.linesScanned)
                part.report.linesScanned += chunk.linesScanned
                carried = filled - end
                if carried > 0 {
                    if last { break }
                    buffer.withUnsafeMutableBufferPointer { b in b.baseAddress!.update(from: b.baseAddress! + end, count: carried) }
                }
                if last { break }
            }
        }
    }
}
