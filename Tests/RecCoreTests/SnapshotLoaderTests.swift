import Testing
import RecTestSupport
@testable import RecCore

@Suite struct SnapshotLoaderTests {
    func load(_ events: String, items: String? = nil) throws -> Snapshot {
        var files = ["events.tsv": events]
        if let items { files["items.tsv"] = items }
        return try SnapshotLoader.load(directory: Fixtures.directory(files))
    }

    @Test func columns_AreFoundByName_InAnyOrder_WithUnknownOnesIgnored() throws {
        let s = try load("""
            timestamp\tnote\titem\tuser\ttype\tquantity
            2010-12-01T08:26:00\thello\tA\tu1\tpurchase\t6
            1291191960\t\tB\tu1\tVIEW\t
            1291191960\tx\tA\tu2\tcart\t2

            """)
        #expect(s.events.count == 3)
        #expect(s.events.users.count == 2)
        #expect(s.events.items.count == 2)
        #expect(s.events.type == [.purchase, .view, .cart])
        #expect(s.events.quantity == [6, 1, 2])
        #expect(s.events.time == [1_291_191_960, 1_291_191_960, 1_291_191_960])
        #expect(s.report.rowsRejected == 0)
    }

    @Test func repeatedTimes_ParseAsTheirOwnText() throws {
        // The parser reuses the previous row's time when the text is the
        // same: rows that differ, even by one digit or in length, still get
        // theirs, and a bad time after a good one is still rejected.
        let s = try load("""
            user\titem\ttype\ttimestamp
            u1\tA\tview\t2010-12-01T08:26:00
            u1\tB\tview\t2010-12-01T08:26:00
            u1\tC\tview\t2010-12-01T08:26:01
            u1\tD\tview\t2010-12-01T08:26:0x
            u1\tE\tview\t1291191960
            u1\tF\tview\t129119196

            """)
        #expect(s.events.time == [1_291_191_960, 1_291_191_960, 1_291_191_961, 1_291_191_960, 129_119_196])
        #expect(s.report.rowsRejected == 1)
        #expect(s.report.samples.first?.reason.contains("bad timestamp '2010-12-01T08:26:0x'") == true)
    }

    @Test func parallelParts_GiveTheSequentialParse_IdsLinesAndAll() throws {
        // About 3 MB, so it splits into several parts; bad rows sit late in
        // the file, blank lines shift the numbering, items.tsv pre-assigns ids.
        var text = "user\titem\ttype\ttimestamp\n"
        var rng = SplitMix64(seed: 9)
        var badLines: [Int] = []
        var line = 1
        for row in 0..<120_000 {
            line += 1
            if row % 40_000 == 39_999 {
                text += "u1\tA\tteleport\t100\n"
                badLines.append(line)
            } else if row % 30_000 == 7 {
                text += "\n"
            } else {
                text += "user\(rng.next() % 5_000)\titem-\(rng.next() % 3_000)\tview\t\(1_000 + row)\n"
            }
        }
        #expect(text.utf8.count > 3 * SnapshotLoader.minimumPartBytes)
        let path = Fixtures.directory(["events.tsv": text]) + "/events.tsv"
        func parse(parts: Int) throws -> (EventTable, LoadReport) {
            var events = EventTable()
            events.items.intern("item-2999")
            var report = LoadReport()
            try SnapshotLoader.loadEvents(path: path, into: &events, report: &report, parts: parts)
            return (events, report)
        }
        let (one, oneReport) = try parse(parts: 1)
        let (four, fourReport) = try parse(parts: 4)
        #expect(one.count == 120_000 - 3 - 4)
        #expect(four.user == one.user && four.item == one.item && four.time == one.time)
        #expect((0..<one.users.count).map { one.users.name(UInt32($0)) } == (0..<four.users.count).map { four.users.name(UInt32($0)) })
        #expect((0..<one.items.count).map { one.items.name(UInt32($0)) } == (0..<four.items.count).map { four.items.name(UInt32($0)) })
        #expect(four.items.name(0) == "item-2999")
        #expect(fourReport == oneReport)
        #expect(fourReport.samples.map(\.line) == badLines)
    }

    /// The streamed parse (each part reading its byte range through a small
    /// buffer) against the in-memory one on the same bytes: chunks of a few
    /// hundred bytes cut lines, "\r\n" pairs and blank runs everywhere, one
    /// line is longer than a chunk, and the last line has no newline.
    @Test(arguments: [1, 3])
    func streamedFile_GivesTheInMemoryParse(parts: Int) throws {
        var text = "\u{FEFF}\n\r\nuser\titem\ttype\ttimestamp\tquantity\r\n"
        var rng = SplitMix64(seed: 21)
        for row in 0..<80_000 {
            switch row % 997 {
            case 5: text += "\n\n"
            case 9: text += "u1\tA\tteleport\t100\n"
            case 13: text += "u\(row)\t" + String(repeating: "x", count: 700) + "\tview\t100\t1\r\n"
            default: text += "user\(rng.next() % 3_000)\titem-\(rng.next() % 2_000)\tcart\t\(1_000 + row)\t2\r\n"
            }
        }
        text += "last\tB\tview\t5\t1"
        let bytes = Array(text.utf8)
        #expect(bytes.count > 2 * SnapshotLoader.minimumPartBytes)
        let path = Fixtures.directory(["events.tsv": text]) + "/events.tsv"
        var memory = EventTable(), streamed = EventTable()
        var memoryReport = LoadReport(), streamedReport = LoadReport()
        try SnapshotLoader.loadEvents(bytes, path: path, into: &memory, report: &memoryReport)
        try SnapshotLoader.loadEvents(path: path, into: &streamed, report: &streamedReport, parts: parts, chunkBytes: 300)
        #expect(streamed.count == memory.count && memory.count > 79_000)
        #expect(streamed.user == memory.user && streamed.item == memory.item)
        #expect(streamed.time == memory.time && streamed.quantity == memory.quantity)
        #expect(streamed.users.count == memory.users.count && streamed.items.count == memory.items.count)
        #expect(streamed.users.name(streamed.user.last!) == "last")
        #expect(streamedReport == memoryReport)
        #expect(memoryReport.rowsRejected == (0..<80_000).filter { $0 % 997 == 9 }.count)
        // Two blank lines and the header come first; row 5 is two blank lines.
        #expect(memoryReport.samples.first?.line == 4 + 9 + 1)
    }

    @Test func streamedFile_HeaderErrorsAsInMemory() throws {
        for text in ["\n\n", "user\titem\n1\t2\n", ""] {
            let path = Fixtures.directory(["events.tsv": text]) + "/events.tsv"
            var events = EventTable()
            var report = LoadReport()
            var streamedError: SnapshotError?
            var memoryError: SnapshotError?
            do { try SnapshotLoader.loadEvents(path: path, into: &events, report: &report) } catch { streamedError = error }
            do { try SnapshotLoader.loadEvents(Array(text.utf8), path: path, into: &events, report: &report) } catch { memoryError = error }
            #expect(streamedError != nil && streamedError == memoryError, "\(text.debugDescription)")
        }
    }

    @Test func crlfLineEnds_ByteOrderMark_AndBlankLines_AreAccepted() throws {
        let s = try load("\u{FEFF}user\titem\ttype\ttimestamp\r\nu1\tA\tview\t100\r\n\r\nu2\tB\tview\t200\r\n")
        #expect(s.events.count == 2)
        #expect(s.events.items.name(1) == "B")
    }

    @Test func badRows_AreCountedAndSampled_WithFileLineAndReason() throws {
        let s = try load("""
            user\titem\ttype\ttimestamp\tquantity
            u1\tA\tpurchase\t100\t1
            u1\tA\tteleport\t100\t1
            u2\tB\tview\tlast tuesday\t1
            u3\tC\tview
            \tC\tview\t100\t1
            u4\tD\tview\t100\t-3
            u5\tE\tview\t100\tlots
            u6\tF\tview\t100\t2

            """)
        #expect(s.events.count == 2)
        #expect(s.report.rowsRead == 8)
        #expect(s.report.rowsRejected == 6)
        #expect(s.report.samples.count == LoadReport.sampleLimit)
        let first = s.report.samples[0]
        #expect(first.file.hasSuffix("events.tsv"))
        #expect(first.line == 3)
        #expect(first.reason.contains("unknown event type 'teleport'"))
        #expect(s.report.samples[1].reason.contains("bad timestamp 'last tuesday'"))
        #expect(s.report.samples[2].reason.contains("expected 5 fields, found 3"))
        #expect(s.report.samples[3].reason == "empty user")
        #expect(s.report.samples[4].reason.contains("not positive"))
    }

    @Test func missingRequiredColumns_IsAnError_NamingFileAndColumns() throws {
        let dir = Fixtures.directory(["events.tsv": "user\titem\twhen\nu1\tA\t100\n"])
        #expect(throws: SnapshotError.missingColumns(path: dir + "/events.tsv", missing: ["type", "timestamp"],
                                                     found: ["user", "item", "when"])) {
            try SnapshotLoader.load(directory: dir)
        }
    }

    @Test func snapshotWithNoUsableRows_IsAnError_ShowingTheFirstReasons() throws {
        let dir = Fixtures.directory(["events.tsv": "user\titem\ttype\ttimestamp\nu1\tA\tfly\t100\n"])
        do {
            _ = try SnapshotLoader.load(directory: dir)
            Issue.record("expected an error")
        } catch {
            guard case .noUsableRows(let path, let rejected, let samples) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(path.hasSuffix("events.tsv"))
            #expect(rejected == 1)
            #expect(samples.first?.line == 2)
            #expect(error.description.contains("events.tsv:2: unknown event type 'fly'"))
        }
    }

    @Test func missingDirectoryEventsFileOrHeader_AreClearErrors() throws {
        #expect(throws: SnapshotError.directoryNotFound(path: "/nonexistent/snap")) {
            try SnapshotLoader.load(directory: "/nonexistent/snap")
        }
        let noEvents = Fixtures.directory(["items.tsv": "item\nA\n"])
        #expect(throws: SnapshotError.fileMissing(path: noEvents + "/events.tsv")) {
            try SnapshotLoader.load(directory: noEvents)
        }
        let empty = Fixtures.directory(["events.tsv": ""])
        #expect(throws: SnapshotError.emptyFile(path: empty + "/events.tsv")) {
            try SnapshotLoader.load(directory: empty)
        }
    }

    @Test func itemsFile_FillsTheCatalog_AndItsBadRowsAreReported() throws {
        let s = try load("user\titem\ttype\ttimestamp\nu1\tA\tview\t1\nu1\tZ\tview\t1\n", items: """
            item\ttitle\tcategory\tprice\tinstock
            A\tWhite heart\tcandles\t2.55\t1
            B\tRed heart\tcandles\t\t0
            C\tBroken\tcandles\tcheap\t1
            D\tMaybe\thome\t1.0\tperhaps

            """)
        let a = try #require(s.events.items.lookup("A"))
        let b = try #require(s.events.items.lookup("B"))
        let z = try #require(s.events.items.lookup("Z"))
        #expect(s.events.items.lookup("C") == nil)
        #expect(s.catalog.title(a) == "White heart")
        #expect(s.catalog.price[Int(a)] == 2.55)
        #expect(s.catalog.price[Int(b)].isNaN)
        #expect(s.catalog.inStock[Int(b)] == false)
        #expect(s.catalog.category[Int(a)] == s.catalog.category[Int(b)])
        // An item only in events gets the defaults.
        #expect(s.catalog.category[Int(z)] == Catalog.noCategory)
        #expect(s.catalog.inStock[Int(z)])
        #expect(s.report.rowsRejected == 2)
        #expect(s.report.samples.map(\.line) == [4, 5])
        #expect(s.report.samples[0].reason.contains("bad price 'cheap'"))
        #expect(s.report.samples[1].reason.contains("bad instock 'perhaps'"))
    }
}
