import Foundation

/// The snapshot directories SAVE writes under `data-dir/snapshots`, named
/// `snapshot-<unix seconds>-<log mark>` so that their names tell their age;
/// retention (`snapshot-keep`) deletes by that order.
public enum SavedSnapshot {
    public static func name(time: Int, mark: UInt64) -> String { "snapshot-\(time)-\(mark)" }

    /// SAVE's directories in `directory`, newest first; other entries are
    /// not SAVE's and are never listed (so never deleted).
    public static func list(in directory: String) -> [(name: String, time: Int, mark: UInt64)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let saved = names.compactMap { name -> (name: String, time: Int, mark: UInt64)? in
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[0] == "snapshot", let t = Int(parts[1]), let m = UInt64(parts[2]) else { return nil }
            return (name, t, m)
        }
        return saved.sorted { ($0.time, $0.mark) > ($1.time, $1.mark) }
    }

    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
