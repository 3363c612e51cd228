/// Finds columns in a header row by name (case-insensitive, any order, with
/// aliases), so exports with extra or reordered columns load as they are.
struct ColumnMap {
    let names: [String]

    init(header scanner: TSVScanner) {
        var names: [String] = []
        for i in 0..<scanner.fieldCount {
            let raw = String(decoding: scanner.field(i), as: UTF8.self)
            names.append(raw.trimmingSpaces().lowercased())
        }
        self.names = names
    }

    /// Index of the first header name among `aliases`, or nil.
    func index(_ aliases: [String]) -> Int? {
        for a in aliases { if let i = names.firstIndex(of: a) { return i } }
        return nil
    }
}

extension String {
    package func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
