import Foundation
import Testing
import RecCore
import RecTestSupport
@testable import RecServer

@Suite struct ConfigTests {
    static var confPath: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("config/recd.conf").path
    }

    /// `# name value` lines of recd.conf (the commented defaults).
    static func documentedDefaults() throws -> [String: String] {
        let text = try String(contentsOfFile: confPath, encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# ") {
            let words = line.dropFirst(2).split(separator: " ", maxSplits: 1).map(String.init)
            if words.count == 2, Settings.named(words[0]) != nil, !words[1].contains(" ") {
                result[words[0]] = words[1] == "\"\"" ? "" : words[1]  // an empty value is written ""
            }
        }
        return result
    }

    @Test func recdConf_DocumentsEverySetting_WithTheCodesDefault() throws {
        let documented = try Self.documentedDefaults()
        for setting in Settings.all {
            #expect(documented[setting.name] == setting.defaultValue, "recd.conf should show '# \(setting.name) \(setting.defaultValue)'")
        }
        #expect(documented.count == Settings.all.count)
    }

    @Test func defaultValuesInTheTable_ProduceTheDefaultConfig() throws {
        var applied = ServerConfig()
        for s in Settings.all { try s.set(&applied, s.defaultValue, origin: "test") }
        let plain = ServerConfig()
        #expect(applied.bind == plain.bind)
        #expect(applied.port == plain.port)
        #expect(applied.threads == plain.threads)
        #expect(applied.snapshot == plain.snapshot)
        #expect(applied.build == plain.build)
        #expect(applied.limits == plain.limits)
        #expect(applied.maxClients == plain.maxClients)
        #expect(applied.maxK == plain.maxK)
        #expect(applied.logLevel == plain.logLevel)
    }

    @Test func fileThenFlags_FlagsWin_InBothFlagForms() throws {
        let dir = Fixtures.directory(["my.conf": "# comment\nport 7100\nsimilarity jaccard\n\nneighbors 20\nsnapshot \"/data/snap\"\n"])
        let (config, _) = try ConfigLoader.load(arguments: ["--config", dir + "/my.conf", "--port", "7200", "--neighbors=5", "--maxclients", "9"])
        #expect(config.port == 7200)
        #expect(config.build.neighbors == 5)
        #expect(config.build.similarity == .jaccard)
        #expect(config.snapshot == "/data/snap")
        #expect(config.maxClients == 9)
        #expect(config.effective["port"] == "7200")
    }

    @Test func unknownSetting_OrBadValue_StopsWithAMessageNamingIt() throws {
        let dir = Fixtures.directory(["bad.conf": "port 7070\ncolour blue\n"])
        #expect(throws: ConfigError.unknownSetting(name: "colour", origin: dir + "/bad.conf:2")) {
            try ConfigLoader.load(arguments: ["--config", dir + "/bad.conf"])
        }
        #expect(throws: ConfigError.unknownSetting(name: "prot", origin: "command line")) {
            try ConfigLoader.load(arguments: ["--prot", "1"])
        }
        #expect(throws: ConfigError.badValue(name: "port", value: "seventy", expected: "an integer from 0 to 65535", origin: "--port")) {
            try ConfigLoader.load(arguments: ["--port", "seventy"])
        }
        #expect(throws: ConfigError.badValue(name: "similarity", value: "magic", expected: SimilarityKind.names, origin: "--similarity")) {
            try ConfigLoader.load(arguments: ["--similarity", "magic"])
        }
        #expect(throws: ConfigError.missingValue(name: "port", origin: "command line")) {
            try ConfigLoader.load(arguments: ["--port"])
        }
        #expect(throws: ConfigError.unreadable(path: "/no/such.conf")) {
            try ConfigLoader.load(arguments: ["--config", "/no/such.conf"])
        }
    }

    @Test func shippedConfig_LoadsAndServesTheSample() throws {
        let (config, _) = try ConfigLoader.load(arguments: ["--config", Self.confPath])
        #expect(config.snapshot == "config/sample")
        var root = URL(fileURLWithPath: Self.confPath)
        root.deleteLastPathComponent()
        let snapshot = try SnapshotLoader.load(directory: root.appendingPathComponent("sample").path)
        #expect(snapshot.report.rowsRejected == 0)
        #expect(snapshot.events.count > 30_000)
    }
}
