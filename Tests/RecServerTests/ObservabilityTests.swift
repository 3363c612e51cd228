import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

/// INFO's latency section and the admin HTTP port.
@Suite(.serialized) struct ObservabilityTests {
    @Test func info_ReportsLatencyPercentilesPerCommand_AndMemory() throws {
        let server = try TestServer(index: Fixtures.tinyIndex())
        let c = try server.connect()
        c.send(resp("SIM", "A") + resp("SIM", "B") + resp("INFO"))
        _ = c.readRESP()
        _ = c.readRESP()
        guard case .bulk(let info?) = c.readRESP() else {
            Issue.record("INFO should be a bulk string")
            return
        }
        #expect(info.contains("# Latencystats\r\nlatency_percentiles_usec_sim:p50="))
        #expect(info.contains(",p99="))
        c.send(resp("INFO", "Latencystats"))
        guard case .bulk(let section?) = c.readRESP() else {
            Issue.record("INFO latencystats should be a bulk string")
            return
        }
        #expect(section.hasPrefix("# Latencystats\r\n"))
        #expect(section.contains("latency_percentiles_usec_sim:p50="))
        #expect(!section.contains("# Server"))
        let rss = info.split(separator: "\r\n").first { $0.hasPrefix("used_memory_rss:") }
        #expect((rss.flatMap { Int($0.dropFirst("used_memory_rss:".count)) } ?? 0) > 1 << 20)
    }

    @Test func adminPort_ServesPrometheusMetricsAndHealth() throws {
        let adminPort = freePort()
        let server = try TestServer(index: Fixtures.tinyIndex()) { $0.adminPort = adminPort }
        let c = try server.connect()
        c.send("SIM A\nREC u1\n")
        #expect(c.readLines(2).count == 2)
        usleep(1_100_000)  // loops merge latency histograms about once a second
        c.send("PING\n")
        #expect(c.readLines(1) == ["PONG"])
        func get(_ path: String) throws -> String {
            let http = try TestClient(port: adminPort)
            http.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            return String(decoding: http.readUntilClosed().bytes, as: UTF8.self)
        }
        // The loop merges after the batch whose reply we just read: allow it a moment.
        var metrics = try get("/metrics")
        for _ in 0..<20 where !metrics.contains("command_duration_seconds{command=\"sim\"") {
            usleep(50_000)
            metrics = try get("/metrics")
        }
        #expect(metrics.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(metrics.contains("# TYPE recd_commands_total counter\n"))
        #expect(metrics.contains("recd_commands_total{command=\"sim\"} 1\n"))
        #expect(metrics.contains("recd_index_items 4\n"))
        #expect(metrics.contains("recd_command_duration_seconds{command=\"sim\",quantile=\"0.99\"}"))
        #expect(try get("/healthz").hasSuffix("\r\n\r\nok\n"))
        #expect(try get("/nope").hasPrefix("HTTP/1.1 404"))
    }
}
