import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// When the event log is forced to disk, as Redis's `appendfsync`.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Before each acknowledgement: nothing acknowledged is ever lost.
    case always
    /// Once a second in the background: a crash of the machine (not just of
    /// recd) may lose the last second.
    case everysec
    /// Left to the kernel.
    case no
}

public enum EventLogError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case notAnEventLog(path: String)
    case writeFailed(path: String, errno: Int32)
    case syncFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let e): "event log \(p): cannot open (\(String(cString: strerror(e))))"
        case .notAnEventLog(let p): "event log \(p): not a recd event log (bad header); move it away or point data-dir elsewhere"
        case .writeFailed(let p, let e): "event log \(p): write failed (\(String(cString: strerror(e))))"
        case .syncFailed(let p, let e): "event log \(p): fdatasync failed (\(String(cString: strerror(e)))); what was written since the last sync may not be on disk"
        }
    }
}

/// The append-only log of live changes. Each record is framed as
/// `length u32 | crc32 u32 | sequence u64 | payload` (the CRC covers the
/// sequence and the payload), so replay can tell a complete record from one
/// torn by a crash mid-write, and skip what the data-dir's manifest says a
/// saved snapshot already holds. Appends are serialised by a mutex and
/// return a ticket; with `always` an acknowledgement waits until
/// `sync(through:)` has covered its ticket. One fdatasync covers every
/// append made before it (group commit), and it runs outside the mutex that
/// appends take, so appends go on while the disk works.
///
/// Logs of the first format (`RECDLOG1`, no sequence numbers) are read with
/// sequence numbers 1, 2, ... and rewritten in this format at once.
public final class EventLog: Sendable {
    public let path: String
    public let policy: FsyncPolicy
    static let magic: [UInt8] = Array("RECDLOG2".utf8)
    static let firstMagic: [UInt8] = Array("RECDLOG1".utf8)

    /// A record and its sequence number.
    public struct Entry: Sendable, Equatable {
        public var sequence: UInt64
        public var record: LogRecord

        public init(_ sequence: UInt64, _ record: LogRecord) {
            self.sequence = sequence
            self.record = record
        }
    }

    struct State {
        var fd: Int32
        var size: Int
        var records: Int
        /// Bytes appended since open, across rewrites: the tickets' scale.
        var appended: UInt64 = 0
        var dirty = false
        var lastSync = ContinuousClock.now
        var buffer: [UInt8] = []
    }

    private let state: Mutex<State>
    /// Serialises fdatasyncs and rewrites (so a sync's fd stays open);
    /// never taken inside `state`.
    private let syncLock = Mutex(())
    /// The ticket every byte up to which is on disk.
    private let synced = Atomic<UInt64>(0)
    private let syncs = Atomic<Int>(0)
    /// Set once in init, cancelled in deinit; DispatchSource is thread-safe.
    nonisolated(unsafe) private let timer: DispatchSourceTimer?

    /// What replay found: the records, and any damage at the tail, which is
    /// cut off (and kept beside the log as `<path>.damaged-<n>`, until the
    /// next SAVE) so appends go on
    /// from the last good record.
    public struct Replay: Sendable {
        public var entries: [Entry] = []
        public var damage: String?
        public var records: [LogRecord] { entries.map(\.record) }
    }

    /// Opens (creating if needed) and replays the log.
    public static func open(path: String, policy: FsyncPolicy) throws(EventLogError) -> (EventLog, Replay) {
        var replay = Replay()
        var bytes: [UInt8] = []
        do { bytes = try FileBytes.read(path) } catch {
            if case .unreadable(_, let e) = error { throw .cannotOpen(path: path, errno: e) }
        }
        var valid = 0
        let header = Array(bytes.prefix(magic.count))
        let numbered = header == magic
        if bytes.isEmpty {
            valid = 0
        } else if bytes.count < magic.count && (Array(magic.prefix(bytes.count)) == bytes || Array(firstMagic.prefix(bytes.count)) == bytes) {
            replay.damage = "torn header (\(bytes.count) bytes); log restarted"
        } else if header != magic && header != firstMagic {
            throw .notAnEventLog(path: path)
        } else {
            valid = magic.count
            bytes.withUnsafeBytes { raw in
                var at = valid
                while at < raw.count {
                    guard at + 8 <= raw.count else {
                        replay.damage = "torn record header at byte \(at)"
                        break
                    }
                    let length = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                    let crc = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).littleEndian
                    guard at + 8 + length <= raw.count else {
                        replay.damage = "torn record at byte \(at) (needs \(length) bytes, \(raw.count - at - 8) present)"
                        break
                    }
                    let framed = UnsafeRawBufferPointer(rebasing: raw[(at + 8)..<(at + 8 + length)])
                    guard CRC32.checksum(framed) == crc else {
                        replay.damage = "checksum mismatch in record at byte \(at)"
                        break
                    }
                    var sequence = UInt64(replay.entries.count + 1)
                    var payload = framed
                    if numbered {
                        guard framed.count >= 8 else {
                            replay.damage = "record without a sequence number at byte \(at)"
                            break
                        }
                        sequence = framed.loadUnaligned(as: UInt64.self).littleEndian
                        payload = UnsafeRawBufferPointer(rebasing: framed[8...])
                    }
                    guard let record = LogRecord.decode(payload) else {
                        replay.damage = "undecodable record at byte \(at)"
                        break
                    }
                    replay.entries.append(Entry(sequence, record))
                    at += 8 + length
                    valid = at
                }
            }
        }
        if replay.damage != nil {
            let tail = Array(bytes[valid...])
            let piece = path + ".damaged-" + String(damagedPieces(of: path).count + 1)
            writeWhole(tail, to: piece)
            replay.damage! += "; \(replay.entries.count) records kept, \(tail.count) bytes dropped (saved in \(piece))"
        }
        if !numbered && valid > 0 {
            // The first format: rewritten with sequence numbers before anything is appended.
            let log = EventLog(path: path, policy: policy, fd: -1, size: 0, records: 0)
            try log.rewrite(replay.entries)
            return (log, replay)
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        if valid == 0 {
            ftruncate(fd, 0)
            _ = magic.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            valid = magic.count
            fsync(fd)
        } else if valid < bytes.count {
            ftruncate(fd, off_t(valid))
            fsync(fd)
        }
        lseek(fd, off_t(valid), SEEK_SET)
        let log = EventLog(path: path, policy: policy, fd: fd, size: valid, records: replay.entries.count)
        return (log, replay)
    }

    init(path: String, policy: FsyncPolicy, fd: Int32, size: Int, records: Int) {
        self.path = path
        self.policy = policy
        state = Mutex(State(fd: fd, size: size, records: records))
        timer = policy == .everysec ? DispatchSource.makeTimerSource(queue: DispatchQueue(label: "recd.eventlog.fsync")) : nil
        if let t = timer {
            t.schedule(deadline: .now() + 1, repeating: 1)
            t.setEventHandler { [weak self] in self?.syncIfDirty() }
            t.resume()
        }
    }

    deinit {
        timer?.cancel()
        state.withLock { s in
            if s.dirty { fdatasync(s.fd) }
            if s.fd >= 0 { Glibc.close(s.fd) }
        }
    }

    public var size: Int { state.withLock { $0.size } }
    /// fdatasyncs of appended records so far (with group commit, fewer
    /// than the appends they covered).
    public var syncCount: Int { syncs.load(ordering: .relaxed) }
    public var recordCount: Int { state.withLock { $0.records } }

    /// Seconds since the last fsync while unsynced data is pending, else 0.
    public var fsyncLagSeconds: Double {
        state.withLock { s in
            guard s.dirty else { return 0 }
            return (ContinuousClock.now - s.lastSync).inSeconds
        }
    }

    /// Appends one record and returns its ticket: the record is on disk
    /// once `isDurable(ticket)`. On failure nothing is acknowledged and the
    /// log is cut back to its last whole record.
    public func append(_ record: LogRecord, sequence: UInt64) throws(EventLogError) -> UInt64 {
        try state.withLock { (s: inout State) throws(EventLogError) -> UInt64 in
            s.buffer.removeAll(keepingCapacity: true)
            s.buffer.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
            LogRecord.put(sequence, &s.buffer)
            record.encode(into: &s.buffer)
            let length = UInt32(s.buffer.count - 8)
            let crc = s.buffer.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[8...])) }
            for k in 0..<4 {
                s.buffer[k] = UInt8(truncatingIfNeeded: length >> (8 * k))
                s.buffer[4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k))
            }
            var written = 0
            while written < s.buffer.count {
                let n = s.buffer.withUnsafeBytes { Glibc.write(s.fd, $0.baseAddress! + written, $0.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    ftruncate(s.fd, off_t(s.size))
                    lseek(s.fd, off_t(s.size), SEEK_SET)
                    throw .writeFailed(path: path, errno: e)
                }
                written += n
            }
            s.size += written
            s.records += 1
            s.appended += UInt64(written)
            s.dirty = true
            return s.appended
        }
    }

    /// Whether an acknowledgement of the append that returned `ticket` may
    /// be sent: with `everysec` and `no` at once, with `always` once a sync
    /// has covered it.
    @inline(__always)
    public func isDurable(_ ticket: UInt64) -> Bool {
        policy != .always || synced.load(ordering: .acquiring) >= ticket
    }

    /// Puts everything appended up to `ticket` (or more) on disk. Callers
    /// that arrive while another's fdatasync runs wait for it and usually
    /// find their ticket covered: one fdatasync for many appends.
    public func sync(through ticket: UInt64) throws(EventLogError) {
        if synced.load(ordering: .acquiring) >= ticket { return }
        try syncLock.withLock { (_: inout ()) throws(EventLogError) in
            if synced.load(ordering: .acquiring) >= ticket { return }
            let (fd, upTo) = state.withLock { ($0.fd, $0.appended) }
            if fdatasync(fd) != 0 { throw .syncFailed(path: path, errno: errno) }
            syncs.add(1, ordering: .relaxed)
            synced.store(upTo, ordering: .releasing)
            state.withLock { s in
                if s.appended == upTo { s.dirty = false }
                s.lastSync = .now
            }
        }
    }

    /// The `everysec` timer's job; also called on shutdown.
    public func syncIfDirty() {
        let (dirty, upTo) = state.withLock { ($0.dirty, $0.appended) }
        if dirty { try? sync(through: upTo) }
    }

    /// Replaces the log's contents with `entries` atomically (temporary
    /// file, fsync, rename, directory fsync): how `FORGET` erases a user's
    /// events from disk and how `SAVE` drops what the new snapshot holds.
    public func rewrite(_ entries: [Entry]) throws(EventLogError) {
        try syncLock.withLock { (_: inout ()) throws(EventLogError) in try rewriteLocked(entries) }
    }

    private func rewriteLocked(_ entries: [Entry]) throws(EventLogError) {
        try state.withLock { (s: inout State) throws(EventLogError) in
            var bytes = EventLog.magic
            var payload: [UInt8] = []
            for e in entries {
                payload.removeAll(keepingCapacity: true)
                LogRecord.put(e.sequence, &payload)
                e.record.encode(into: &payload)
                LogRecord.put32(UInt32(payload.count), &bytes)
                LogRecord.put32(CRC32.checksum(payload), &bytes)
                bytes.append(contentsOf: payload)
            }
            let temporary = path + ".rewrite"
            guard EventLog.writeWhole(bytes, to: temporary) else { throw .writeFailed(path: temporary, errno: errno) }
            guard rename(temporary, path) == 0 else { throw .writeFailed(path: path, errno: errno) }
            EventLog.syncDirectory(of: path)
            let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
            lseek(fd, 0, SEEK_END)
            if s.fd >= 0 { Glibc.close(s.fd) }
            s.fd = fd
            s.size = bytes.count
            s.records = entries.count
            s.dirty = false
            s.lastSync = .now
            synced.store(s.appended, ordering: .releasing)
        }
    }

    /// The damaged tails cut off the log at opens so far (each kept for
    /// inspection; the next successful SAVE deletes them).
    public static func damagedPieces(of path: String) -> [String] {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "/" : dir)) ?? []
        return names.filter { $0.hasPrefix(base + ".damaged") }.sorted().map { dir + "/" + $0 }
    }

    /// Bytes in the damaged pieces (INFO).
    public static func damagedBytes(of path: String) -> Int {
        damagedPieces(of: path).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
    }

    /// Writes `bytes` to a new file and fsyncs it. False on failure (errno set).
    @discardableResult
    public static func writeWhole(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { return false }
        defer { Glibc.close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += n
        }
        return fsync(fd) == 0
    }

    /// Makes a rename durable: fsync of the directory that holds the entry.
    public static func syncDirectory(of path: String) {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = Glibc.open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            Glibc.close(fd)
        }
    }
}
