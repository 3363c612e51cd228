import Foundation
import Testing
import RecTestSupport
@testable import RecServer

/// The README's command reference is the command table's: the same syntax,
/// options and summaries (`RECD_UPDATE_README=1 swift test --filter
/// CommandReference` rewrites the README's copy after a change to the table).
struct CommandReferenceTests {
    static let begin = "<!-- command reference: made from CommandTable.swift -->"
    static let end = "<!-- end of command reference -->"

    @Test func readmeCommandReference_IsTheCommandTables() throws {
        let path = ClientLibraryTests.repo + "/README.md"
        let readme = try String(contentsOfFile: path, encoding: .utf8)
        let start = try #require(readme.range(of: Self.begin), "the README has the command reference markers")
        let stop = try #require(readme.range(of: Self.end, range: start.upperBound..<readme.endIndex))
        let current = String(readme[start.upperBound..<stop.lowerBound]).trimmingCharacters(in: .newlines)
        let expected = CommandReference.markdown
        if current != expected && ProcessInfo.processInfo.environment["RECD_UPDATE_README"] == "1" {
            let updated = readme.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: "\n" + expected + "\n")
            try updated.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == expected, "README's command reference differs from the table; RECD_UPDATE_README=1 rewrites it. Expected:\n\(expected)")
    }

    @Test func everyOptionASpecDeclares_IsParsed_AndOthersAreRefusedByName() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send("SIM A seen=include\nSIM A k=1 WITHMETA\nPOPULAR due=1\nSIM A k\n")
        #expect(c.readLines(4) == [
            "ERR SYNTAX unknown option 'seen' (options: k, category, instock, exclude, WITHMETA)",
            "OK B 0.666667 (fallback) 0 (unknown) 0",
            "ERR SYNTAX unknown option 'due' (options: k, category, instock, exclude, WITHMETA)",
            "ERR SYNTAX expected k=value, got 'k'",
        ])
    }
}
