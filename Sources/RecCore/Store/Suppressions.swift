import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Users FORGET removed, kept in the data-dir (`forgotten`, one escaped id
/// per line, appended and fsynced before FORGET answers) and left out of
/// every snapshot recd loads: a RELOAD of last night's export, which still
/// holds them, or a restart cannot bring them back.
public final class Suppressions: Sendable {
    public let path: String
    private let names: Mutex<Set<[UInt8]>>

    public static let fileName = "forgotten"

    public init(dataDir: String) {
        path = dataDir + "/" + Suppressions.fileName
        var set = Set<[UInt8]>()
        if let bytes = try? FileBytes.read(path) {
            var scratch: [UInt8] = []
            bytes.withUnsafeBufferPointer { b in
                var start = 0
                for i in 0..<b.count where b[i] == 0x0A {
                    if i > start { set.insert(TSVEscape.withUnescaped(b.slice(start, i), scratch: &scratch) { Array($0) }) }
                    start = i + 1
                }
            }
        }
        names = Mutex(set)
    }

    public var all: Set<[UInt8]> { names.withLock { $0 } }
    public var isEmpty: Bool { names.withLock { $0.isEmpty } }
    public var count: Int { names.withLock { $0.count } }

    /// Adds `user` durably; false if the file could not be written.
    public func add(_ user: [UInt8]) -> Bool {
        let isNew = names.withLock { $0.insert(user).inserted }
        guard isNew else { return true }
        var line: [UInt8] = []
        TSVEscape.append(user, to: &line)
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let written = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else { return false }
        EventLog.syncDirectory(of: path)
        return true
    }
}

extension EventTable {
    /// This table without the events of `users` (by name).
    public func removingUsers(_ users: Set<[UInt8]>) -> EventTable {
        var drop = [Bool](repeating: false, count: self.users.count)
        var any = false
        for name in users {
            if let u = name.withUnsafeBufferPointer({ self.users.lookup($0) }) {
                drop[Int(u)] = true
                any = true
            }
        }
        guard any else { return self }
        var out = EventTable()
        out.items = items  // keep item ids, so items.tsv's order stands
        for e in 0..<count where !drop[Int(user[e])] {
            let u = self.users.withName(user[e]) { out.users.intern($0) }
            out.append(user: u, item: item[e], type: type[e], time: time[e], quantity: quantity[e])
        }
        return out
    }
}
