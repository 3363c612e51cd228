import Testing
@testable import RecCore

@Suite struct ByteParsingTests {
    func int(_ s: String) -> Int64? { var s = s; return s.withUTF8 { ByteParsing.parseInt($0) } }
    func double(_ s: String) -> Double? { var s = s; return s.withUTF8 { ByteParsing.parseDouble($0) } }
    func time(_ s: String) -> Int64? { var s = s; return s.withUTF8 { Timestamp.parse($0) } }

    @Test func integers_ParseWithSigns_AndRejectJunkAndOverflow() {
        #expect(int("0") == 0)
        #expect(int("-42") == -42)
        #expect(int("+7") == 7)
        #expect(int("9223372036854775807") == Int64.max)
        #expect(int("9223372036854775808") == nil)
        #expect(int("") == nil)
        #expect(int("-") == nil)
        #expect(int("12a") == nil)
        #expect(int(" 1") == nil)
    }

    @Test func decimals_ParseExponentFormsLikeTheEmbeddingFiles() throws {
        #expect(double("2.55") == 2.55)
        #expect(double("-0.001") == -0.001)
        #expect(double("1e-5") == 1e-5)
        let tiny = try #require(double("-5.24111e-33"))
        #expect(abs(tiny - -5.24111e-33) < 1e-45)
        #expect(double("3.") == 3)
        #expect(double(".5") == 0.5)
        #expect(double("1E+3") == 1000)
        // Digits past the 19th only scale: a few ulps, as documented.
        let long = try #require(double("123456789012345678901234"))
        #expect(abs(long - 123456789012345678901234.0) / long < 1e-15)
    }

    @Test func decimals_RejectNaNInfinityAndGarbage() {
        for bad in ["", "nan", "NaN", "inf", "-", ".", "1e", "1e+", "1.2.3", "abc", "1,5"] {
            #expect(double(bad) == nil, "\(bad) should be rejected")
        }
    }

    @Test func decimals_AgreeWithTheStandardLibraryOnRandomValues() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let v = Double(Int64(bitPattern: rng.next()) % 1_000_000_000) / 1000.0
            let parsed = double(String(v))!
            #expect(abs(parsed - v) <= abs(v) * 1e-15)
        }
    }

    @Test func timestamps_AcceptUnixSecondsMillisecondsAndISO8601() {
        #expect(time("1290000000") == 1_290_000_000)
        #expect(time("1290000000123") == 1_290_000_000)  // milliseconds
        #expect(time("1290000000.75") == 1_290_000_000)
        #expect(time("1970-01-01") == 0)
        #expect(time("2010-12-01T08:26:00") == 1_291_191_960)
        #expect(time("2010-12-01 08:26") == 1_291_191_960)
        #expect(time("2010-12-01T08:26:00Z") == 1_291_191_960)
        #expect(time("2010-12-01T09:26:00+01:00") == 1_291_191_960)
        #expect(time("2010-12-01T07:26:00-0100") == 1_291_191_960)
        #expect(time("2010-12-01T08:26:00.123Z") == 1_291_191_960)
        #expect(time("2000-02-29T00:00:00") == 951_782_400)  // leap day
    }

    @Test func timestamps_RejectMalformedDates() {
        for bad in ["", "yesterday", "2010-13-01", "2010-12-32", "2010-12-01T25:00", "2010-12-01T08:26:00Q",
                    "2010-12-01T08", "2010/12/01", "12-01-2010"] {
            #expect(time(bad) == nil, "\(bad) should be rejected")
        }
    }

    @Test func daysFromCivil_MatchesKnownDates() {
        #expect(Timestamp.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
    }

    @Test func caseInsensitiveComparison_FoldsLettersOnly() {
        var s = "PuRcHaSe"
        #expect(s.withUTF8 { ByteParsing.equalsLowercase($0, "purchase") })
        s = "purchas@"
        #expect(!s.withUTF8 { ByteParsing.equalsLowercase($0, "purchase") })
        s = "K"
        #expect(s.withUTF8 { ByteParsing.equalsLowercase($0, "k") })
        s = "["  // 0x5B must not fold onto '{' (0x7B)
        #expect(!s.withUTF8 { ByteParsing.equalsLowercase($0, "{") })
    }
}

