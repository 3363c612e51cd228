import Foundation
import Testing
import RecTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Real client libraries against the recd executable, each with its own
/// defaults: redis-py (RESP3 through HELLO 3, MULTI/EXEC pipelines, asyncio),
/// node-redis (RESP2), hiredis (pipelined) and redis-cli's help (COMMAND DOCS).
/// The checkers live in Tests/clients; `.ci/install-test-tools` installs the
/// tools, and a test whose tool is missing is skipped.
@Suite(.serialized) struct ClientLibraryTests {
    /// The repository root (Tests/RecServerTests/ClientLibraryTests.swift, up 3).
    static let repo: String = {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        return dir.path
    }()

    static var checkers: String { repo + "/Tests/clients" }

    /// The venv's python, when redis-py imports there.
    static let python: String? = {
        let path = ClientLibraryTests.repo + "/.build/test-venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: path),
              let result = try? ClientLibraryTests.run(path, ["-c", "import redis"], timeout: 30), result.status == 0 else { return nil }
        return path
    }()

    /// Debian's node-redis sits in /usr/share/nodejs, which NodeSource's node does not search.
    static let nodeEnvironment: [String: String] = {
        let current = ProcessInfo.processInfo.environment["NODE_PATH"].map { ":" + $0 } ?? ""
        return ["NODE_PATH": "/usr/share/nodejs" + current]
    }()

    /// node, when `require('redis')` works.
    static let node: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let candidates = path.split(separator: ":").map { String($0) + "/node" } + ["/usr/bin/node", "/usr/local/bin/node"]
        guard let node = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              let result = try? ClientLibraryTests.run(node, ["-e", "require('redis')"],
                                                       environment: ClientLibraryTests.nodeEnvironment, timeout: 30),
              result.status == 0 else { return nil }
        return node
    }()

    /// A C compiler, when the hiredis headers are installed.
    static let cc: String? = {
        guard FileManager.default.fileExists(atPath: "/usr/include/hiredis/hiredis.h") else { return nil }
        return ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let redisCLI: String? = {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-cli") ? "/usr/bin/redis-cli" : nil
    }()

    /// Runs a program to completion (SIGKILLed after `timeout` seconds):
    /// its exit status and its stdout and stderr together.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Double = 120) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        var output = String(decoding: data, as: UTF8.self)
        if process.terminationReason == .uncaughtSignal {
            output += "\n[\(executable) killed by signal \(process.terminationStatus)]"
        }
        return (process.terminationReason == .exit ? process.terminationStatus : -1, output)
    }

    /// recd on the sample shop, with ALS item vectors (in place: its
    /// background stage done), a fresh data dir and no password; `body`
    /// gets its port.
    static func withRecd(_ body: (Int) throws -> Void) throws {
        let port = freePort()
        let recd = try LiveTests.spawnRecd(["--snapshot", repo + "/config/sample", "--data-dir", Fixtures.directory([:]),
                                            "--als-factors", "8"], port: port)
        defer { recd.terminate(); recd.waitUntilExit() }
        // The vectors are learned in the background stage: wait for it.
        let c = try TestClient(port: port)
        for _ in 0..<400 {
            c.send("INFO index\n")
            if c.readLines(1).first?.contains("build_stage:tuned") == true { break }
            usleep(50_000)
        }
        try body(port)
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.python != nil, "needs the redis-py venv: run .ci/install-test-tools"))
    func redisPy_PassesEveryCheck_WithItsDefaultsAndRESP2() throws {
        try Self.withRecd { port in
            let (status, output) = try Self.run(Self.python!, [Self.checkers + "/redis_py_check.py", String(port)])
            #expect(status == 0, "\(output)")
            #expect(output.contains("all checks passed"), "\(output)")
        }
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.node != nil, "needs node and node-redis: run .ci/install-test-tools"))
    func nodeRedis_PassesEveryCheck_OverRESP2() throws {
        try Self.withRecd { port in
            let (status, output) = try Self.run(Self.node!, [Self.checkers + "/node_redis_check.js", String(port)],
                                                environment: Self.nodeEnvironment)
            #expect(status == 0, "\(output)")
            #expect(output.contains("all checks passed"), "\(output)")
        }
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.cc != nil, "needs cc and libhiredis-dev: run .ci/install-test-tools"))
    func hiredis_GetsEveryReplyInOrder_WhenPipelined() throws {
        let binary = Fixtures.directory([:]) + "/hiredis_pipeline"
        let compiled = try Self.run(Self.cc!, ["-O1", "-o", binary, Self.checkers + "/hiredis_pipeline.c", "-lhiredis"])
        try #require(compiled.status == 0, "cc: \(compiled.output)")
        try Self.withRecd { port in
            let (status, output) = try Self.run(binary, [String(port)], timeout: 60)
            #expect(status == 0, "\(output)")
            #expect(output.contains("all checks passed"), "\(output)")
        }
    }

    @Test(.enabled(if: LiveTests.recdBinary != nil, "needs the recd executable beside the test bundle (swift build)"),
          .enabled(if: ClientLibraryTests.redisCLI != nil, "needs /usr/bin/redis-cli: run .ci/install-test-tools"))
    func redisCLI_ShowsHelpFromCommandDocs_AndCountsCommands() throws {
        try Self.withRecd { port in
            let (status, output) = try Self.run("/bin/bash", [Self.checkers + "/redis_cli_help.sh", String(port)], timeout: 60)
            #expect(status == 0, "\(output)")
            #expect(output.contains("all checks passed"), "\(output)")
        }
    }
}
