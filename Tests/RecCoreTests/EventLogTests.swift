import Foundation
import Testing
import RecCore
import RecTestSupport

@Suite struct EventLogTests {
    static func sampleRecords() -> [LogRecord] {
        [
            .event(user: Array("u1".utf8), LiveEvent(item: Array("A".utf8), type: .purchase, time: 100, quantity: 2)),
            .item(ItemPatch(item: Array("B".utf8), inStock: false, category: Array("mugs".utf8), price: 3.5, title: Array("Blue mug".utf8))),
            .item(ItemPatch(item: Array("C".utf8), price: 1)),
            .forget(user: Array("u2".utf8)),
            .event(user: Array("u 3".utf8), LiveEvent(item: [0, 0xFF, 0x0A], type: .view, time: -5)),
        ]
    }

    @Test func records_RoundTripThroughTheFile() throws {
        let dir = Fixtures.directory([:])
        let (log, replay) = try EventLog.open(path: dir + "/events.log", policy: .always)
        #expect(replay.records.isEmpty && replay.damage == nil)
        for (n, r) in Self.sampleRecords().enumerated() { _ = try log.append(r, sequence: UInt64(n + 1)) }
        let (_, again) = try EventLog.open(path: dir + "/events.log", policy: .no)
        #expect(again.records == Self.sampleRecords())
        #expect(again.damage == nil)
    }

    @Test func tornTail_IsDroppedAndReported_EverythingBeforeItKept() throws {
        let path = Fixtures.directory([:]) + "/events.log"
        do {
            let (log, _) = try EventLog.open(path: path, policy: .always)
            for (n, r) in Self.sampleRecords().enumerated() { _ = try log.append(r, sequence: UInt64(n + 1)) }
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // Cut the last record in half, as a crash mid-write would.
        try whole.prefix(whole.count - 7).write(to: URL(fileURLWithPath: path))
        let (log, replay) = try EventLog.open(path: path, policy: .always)
        #expect(replay.records == Array(Self.sampleRecords().dropLast()))
        #expect(replay.damage?.contains("torn record") == true)
        #expect(replay.damage?.contains("4 records kept") == true)
        // Appends continue after the last good record and replay cleanly.
        _ = try log.append(.forget(user: Array("u9".utf8)), sequence: 9)
        let (_, after) = try EventLog.open(path: path, policy: .no)
        #expect(after.records == Array(Self.sampleRecords().dropLast()) + [.forget(user: Array("u9".utf8))])
        #expect(after.damage == nil)
        #expect(FileManager.default.fileExists(atPath: path + ".damaged-1"))
    }

    @Test func corruptedByte_StopsReplayAtThatRecord() throws {
        let path = Fixtures.directory([:]) + "/events.log"
        do {
            let (log, _) = try EventLog.open(path: path, policy: .always)
            for (n, r) in Self.sampleRecords().enumerated() { _ = try log.append(r, sequence: UInt64(n + 1)) }
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0x40  // inside the last record's payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (_, replay) = try EventLog.open(path: path, policy: .no)
        #expect(replay.records.count == 4)
        #expect(replay.damage?.contains("checksum mismatch") == true)
    }

    @Test func aFileThatIsNotALog_IsRefused() throws {
        let dir = Fixtures.directory(["events.log": "user\titem\n"])
        #expect(throws: EventLogError.self) { try EventLog.open(path: dir + "/events.log", policy: .no) }
    }

    @Test func rewrite_ReplacesTheContentsAtomically() throws {
        let path = Fixtures.directory([:]) + "/events.log"
        let (log, _) = try EventLog.open(path: path, policy: .always)
        for (n, r) in Self.sampleRecords().enumerated() { _ = try log.append(r, sequence: UInt64(n + 1)) }
        try log.rewrite([EventLog.Entry(7, .forget(user: Array("x".utf8)))])
        _ = try log.append(.forget(user: Array("y".utf8)), sequence: 8)
        let (_, replay) = try EventLog.open(path: path, policy: .no)
        #expect(replay.entries == [EventLog.Entry(7, .forget(user: Array("x".utf8))), EventLog.Entry(8, .forget(user: Array("y".utf8)))])
    }

    /// A log of the first format (no sequence numbers) is read numbered
    /// 1, 2, ... and rewritten in the current one, so appends can follow.
    @Test func firstFormatLog_IsNumberedAndRewritten() throws {
        let path = Fixtures.directory([:]) + "/events.log"
        var bytes = Array("RECDLOG1".utf8)
        for r in Self.sampleRecords().prefix(2) {
            var payload: [UInt8] = []
            r.encode(into: &payload)
            for v in [UInt32(payload.count), CRC32.checksum(payload)] { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
            bytes += payload
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (log, replay) = try EventLog.open(path: path, policy: .always)
        #expect(replay.entries.map(\.sequence) == [1, 2])
        #expect(replay.records == Array(Self.sampleRecords().prefix(2)))
        _ = try log.append(.forget(user: Array("z".utf8)), sequence: 3)
        let (_, again) = try EventLog.open(path: path, policy: .no)
        #expect(again.entries.map(\.sequence) == [1, 2, 3])
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8), as: UTF8.self) == "RECDLOG2")
    }
}

@Suite struct LiveStateTests {
    @Test func forget_DropsTheUsersEvents_AndLaterEventsStartAfresh() {
        let live = LiveState()
        let u = Array("u1".utf8)
        live.apply(.event(user: u, LiveEvent(item: Array("A".utf8), type: .view, time: 1)), sequence: 1)
        live.apply(.event(user: Array("u2".utf8), LiveEvent(item: Array("B".utf8), type: .view, time: 1)), sequence: 2)
        live.apply(.forget(user: u), sequence: 3)
        #expect(live.user("u1")?.events.isEmpty == true)
        #expect(live.user("u1")?.forgotten == true)
        #expect(live.eventCount == 1)
        live.apply(.event(user: u, LiveEvent(item: Array("C".utf8), type: .cart, time: 2)), sequence: 4)
        #expect(live.user("u1")?.events.map(\.item) == [Array("C".utf8)])
        // Replaying its own records rebuilds the same state.
        let copy = LiveState()
        for e in live.records(after: 0) { copy.apply(e.record, sequence: e.sequence) }
        #expect(copy.user("u1")?.forgotten == true)
        #expect(copy.user("u1")?.events.count == 1)
        #expect(copy.user("u2")?.events.count == 1)
    }

    /// A reload drops exactly the events the new snapshot holds, whatever their time.
    @Test func reload_DropsTheEventsTheSnapshotHolds_AndKeepsTheRest() {
        let live = LiveState()
        for (n, t) in ([5, 10, 15] as [Int64]).enumerated() {
            live.apply(.event(user: Array("u".utf8), LiveEvent(item: Array("A".utf8), type: .view, time: t)), sequence: UInt64(n + 1))
        }
        live.dropEvents(numbered: [2])
        #expect(live.user("u")?.events.map(\.time) == [5, 15])
        #expect(live.eventCount == 2)
    }
}
