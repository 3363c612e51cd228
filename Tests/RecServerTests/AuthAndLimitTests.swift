import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// requirepass and the idle timeout, over real sockets in both dialects.
@Suite(.serialized) struct AuthAndLimitTests {
    @Test func withRequirepass_EveryCommandButAuthAndQuit_IsRefusedUntilAuth() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.requirePass = "s3cret" }
        let line = try server.connect()
        line.send("PING\nSIM A k=1\nAUTH wrong\nAUTH s3cret\nSIM A k=1\n")
        #expect(line.readLines(5) == [
            "ERR NOAUTH Authentication required; send AUTH <password>",
            "ERR NOAUTH Authentication required; send AUTH <password>",
            "ERR WRONGPASS invalid username-password pair",
            "OK",
            "OK B 0.666667",
        ])
        let r = try server.connect()
        r.send(resp("SIM", "A") + resp("AUTH", "default", "s3cret") + resp("PING"))
        #expect(r.readRESP() == .error("NOAUTH Authentication required; send AUTH <password>"))
        #expect(r.readRESP() == .simple("OK"))
        #expect(r.readRESP() == .simple("PONG"))
        let quitter = try server.connect()
        quitter.send("QUIT\n")
        #expect(quitter.readUntilClosed().closed)
    }

    @Test func authWithoutAPasswordConfigured_SaysSo() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send("AUTH x\nPING\n")
        #expect(c.readLines(2) == ["ERR AUTH no password is configured (requirepass)", "PONG"])
    }

    @Test func passwordComparison_NeedsEveryByte() {
        func eq(_ a: String, _ b: String) -> Bool {
            var a = a
            return a.withUTF8 { CommandHandler.constantTimeEqual($0, b) }
        }
        #expect(eq("s3cret", "s3cret"))
        #expect(!eq("s3cre", "s3cret"))
        #expect(!eq("s3crett", "s3cret"))
        #expect(!eq("S3cret", "s3cret"))
        #expect(!eq("", "s3cret"))
    }

    @Test func idleClients_AreClosedAfterTheTimeout_ActiveOnesAreNot() throws {
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.idleTimeout = 1 }
        let idle = try server.connect()
        let active = try server.connect()
        idle.send("PING\n")
        #expect(idle.readLines(1) == ["PONG"])
        for _ in 0..<6 {
            usleep(400_000)
            active.send("PING\n")
            #expect(active.readLines(1) == ["PONG"])
        }
        let (_, closed) = idle.readUntilClosed()
        #expect(closed, "idle for over 2 s with timeout 1")
    }
}

@Suite(.serialized) struct OutputLimitTests {
    @Test func aClientThatStopsReading_IsCutOff_OthersAreServed() throws {
        let events = Fixtures.randomEvents(users: 3000, items: 2000, groups: 2, seed: 4)
        let index = IndexBuilder.build(Snapshot(events: events), config: BuildConfig())
        let server = try TestServer(index: index) { $0.outputStallSeconds = 1 }
        let greedy = try TestClient(port: server.port, timeoutSeconds: 1)
        var small: Int32 = 4096
        setsockopt(greedy.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        greedy.send(String(repeating: "POPULAR k=1000\n", count: 2000))  // ~30 MB of replies, never read
        let other = try server.connect()
        var closed = false
        for _ in 0..<40 where !closed {
            usleep(100_000)
            other.send("PING\n")
            #expect(other.readLines(1) == ["PONG"])
            var info = ""
            other.send("INFO\n")
            info = other.readLines(1).first ?? ""
            closed = info.contains("connected_clients:1 ")
        }
        #expect(closed, "the non-reading client should have been cut off after ~1-2 s")
    }
}
