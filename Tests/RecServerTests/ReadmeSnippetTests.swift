import Foundation
import Testing
import RecTestSupport

/// The README's client snippets, run as written (port 7070 swapped for the
/// test server's) against recd on the sample: a snippet that stops working
/// fails here, not in a user's first five minutes.
@Suite(.serialized) struct ReadmeSnippetTests {
    /// The fenced blocks of `language` in the README's Clients section.
    static func snippets(_ language: String) throws -> [String] {
        let readme = try String(contentsOfFile: ClientLibraryTests.repo + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n## Clients\n") else { return [] }
        let section = readme[start.upperBound...].prefix { _ in true }
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        var blocks: [String] = []
        var rest = section[..<end]
        while let open = rest.range(of: "```\(language)\n"), let close = rest[open.upperBound...].range(of: "\n```") {
            blocks.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return blocks
    }

    /// recd on the sample, as the client-library checks run it.
    static func withRecd(_ body: (Int) throws -> Void) throws { try ClientLibraryTests.withRecd(body) }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.python != nil, "needs the redis-py venv: run .ci/install-test-tools"))
    func pythonSnippet_Runs() throws {
        let code = try #require(Self.snippets("python").first, "the README has a Python snippet")
        try Self.withRecd { port in
            let (status, output) = try ClientLibraryTests.run(ClientLibraryTests.python!,
                                                              ["-c", code.replacingOccurrences(of: "7070", with: String(port))])
            #expect(status == 0, "\(output)")
            #expect(output.contains("85123A") || output.contains("b'"), "\(output)")
        }
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.node != nil, "needs node with node-redis: run .ci/install-test-tools"))
    func nodeSnippet_Runs() throws {
        let code = try #require(Self.snippets("javascript").first, "the README has a Node snippet")
        try Self.withRecd { port in
            let (status, output) = try ClientLibraryTests.run(ClientLibraryTests.node!, ["-e", code.replacingOccurrences(of: "7070", with: String(port))],
                                                              environment: ClientLibraryTests.nodeEnvironment)
            #expect(status == 0, "\(output)")
            #expect(output.contains("OK"), "the transaction's EVENT answers OK: \(output)")
        }
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.redisCLI != nil, "needs redis-cli: run .ci/install-test-tools"))
    func shellSnippet_Runs() throws {
        let code = try #require(Self.snippets("shell").first, "the README has a shell snippet")
        try Self.withRecd { port in
            let (status, output) = try ClientLibraryTests.run("/bin/sh", ["-ec", code.replacingOccurrences(of: "7070", with: String(port))])
            #expect(status == 0, "\(output)")
            #expect(output.contains("summary:") || output.contains("items most similar"), "help SIM shows the summary: \(output)")
        }
    }
}
