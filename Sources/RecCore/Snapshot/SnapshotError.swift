/// A snapshot that cannot be used. Every case names the file and says what to
/// fix; the message is what `RELOAD` and the daemon's start-up print.
public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case directoryNotFound(path: String)
    case fileMissing(path: String)
    case unreadable(path: String, errno: Int32)
    case emptyFile(path: String)
    case missingColumns(path: String, missing: [String], found: [String])
    case noUsableRows(path: String, rejected: Int, samples: [RowIssue])
    /// Vectors are all or nothing: one bad row would skew every search.
    case badEmbedding(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .directoryNotFound(let p):
            return "snapshot directory \(p) does not exist"
        case .fileMissing(let p):
            return "\(p): file missing (a snapshot needs events.tsv)"
        case .unreadable(let p, let e):
            return "\(p): cannot read (errno \(e))"
        case .emptyFile(let p):
            return "\(p): empty file, expected a header row"
        case .missingColumns(let p, let missing, let found):
            return "\(p): header lacks required column(s) \(missing.joined(separator: ", ")); found: \(found.joined(separator: ", "))"
        case .badEmbedding(let p, let line, let reason):
            return "\(p):\(line): \(reason)"
        case .noUsableRows(let p, let rejected, let samples):
            let shown = samples.map(\.description).joined(separator: "; ")
            return "\(p): no usable rows (\(rejected) rejected)" + (shown.isEmpty ? "" : ": \(shown)")
        }
    }
}

/// One rejected row: where it is and why, so an operator can fix the export.
public struct RowIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public var description: String { "\(file):\(line): \(reason)" }
}

/// What loading skipped. Rejected rows are counted, and the first few are kept
/// with their line numbers for the log and the `RELOAD` reply.
public struct LoadReport: Sendable, Equatable {
    public static let sampleLimit = 5
    public var rowsRead = 0
    public var rowsRejected = 0
    public var samples: [RowIssue] = []

    public init() {}

    mutating func reject(_ file: String, _ line: Int, _ reason: @autoclosure () -> String) {
        rowsRejected += 1
        if samples.count < LoadReport.sampleLimit {
            samples.append(RowIssue(file: file, line: line, reason: reason()))
        }
    }

    /// Lines a parse walked (blank ones included), so the next part of a
    /// file split for parallel parsing knows its first line number.
    var linesScanned = 0

    /// Adds another report's counts and samples, its line numbers shifted
    /// by `lineOffset` (the lines before the part it covers).
    mutating func absorb(_ other: LoadReport, lineOffset: Int = 0) {
        rowsRead += other.rowsRead
        rowsRejected += other.rowsRejected
        for var s in other.samples where samples.count < LoadReport.sampleLimit {
            s.line += lineOffset
            samples.append(s)
        }
    }
}
