#if canImport(Glibc)
import Glibc
#endif

/// The data-dir's one switch point: which snapshot to serve and which log
/// records it already holds. Replay applies a record only if its sequence
/// number is above `covers` and not in `held`, so every step of SAVE and
/// RELOAD is safe to crash in: before the manifest is renamed into place
/// the old snapshot and the whole log are served, after it the new snapshot
/// and the records it lacks. Written to a temporary name, fsynced, renamed,
/// and the directory fsynced.
public struct Manifest: Sendable, Equatable {
    public var snapshot: String
    /// Every record numbered up to this is in `snapshot` (a SAVE wrote it).
    public var covers: UInt64
    /// Further records `snapshot` holds (events a RELOADed export already
    /// had), until the log is rewritten without them.
    public var held: Set<UInt64>

    public init(snapshot: String, covers: UInt64 = 0, held: Set<UInt64> = []) {
        self.snapshot = snapshot
        self.covers = covers
        self.held = held
    }

    public static let fileName = "MANIFEST"
    /// What recd wrote before the manifest: the snapshot's path alone.
    public static let legacyFileName = "CURRENT"

    public func applies(_ sequence: UInt64) -> Bool { sequence > covers && !held.contains(sequence) }

    /// The manifest in `dataDir`, or the snapshot a legacy `CURRENT` names
    /// (its log holds only what that snapshot lacks), or nil.
    public static func read(dataDir: String) -> Manifest? {
        if let bytes = try? FileBytes.read(dataDir + "/" + fileName) {
            var m = Manifest(snapshot: "")
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                if line.hasPrefix("snapshot ") { m.snapshot = String(line.dropFirst(9)) }
                if line.hasPrefix("covers ") { m.covers = UInt64(line.dropFirst(7)) ?? 0 }
                if line.hasPrefix("held ") { m.held = Set(line.dropFirst(5).split(separator: ",").compactMap { UInt64($0) }) }
            }
            if !m.snapshot.isEmpty { return m }
        }
        if let bytes = try? FileBytes.read(dataDir + "/" + legacyFileName) {
            let dir = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            if !dir.isEmpty { return Manifest(snapshot: dir) }
        }
        return nil
    }

    /// Makes this the manifest of `dataDir`, durably; false on failure (errno set).
    public func write(dataDir: String) -> Bool {
        var text = "snapshot \(snapshot)\ncovers \(covers)\n"
        if !held.isEmpty { text += "held " + held.sorted().map(String.init).joined(separator: ",") + "\n" }
        let path = dataDir + "/" + Manifest.fileName
        guard EventLog.writeWhole(Array(text.utf8), to: path + ".tmp"), rename(path + ".tmp", path) == 0 else { return false }
        EventLog.syncDirectory(of: path)
        unlink(dataDir + "/" + Manifest.legacyFileName)
        return true
    }
}
