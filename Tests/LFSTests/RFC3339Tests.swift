import Foundation
import Testing
@testable import LFS

@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-29T10:00:00Z", 1_795_946_400.0),
        ("2026-11-29T10:00:00.5Z", 1_795_946_400.5),
        // Go's time.RFC3339Nano, with an offset: the same instant as 10:00:00.123456789Z.
        ("2026-11-29T18:00:00.123456789+08:00", 1_795_946_400.123456789),
        ("2026-11-29T05:00:00-05:00", 1_795_946_400.0),
        ("2026-11-29t10:00:00z", 1_795_946_400.0),
        ("2026-11-29 10:00:00+00:00", 1_795_946_400.0),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("2016-12-31T23:59:60Z", 1_483_228_799.0),
    ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.date(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6, "\(text): \(date.timeIntervalSince1970)")
    }

    @Test(arguments: ["", "2026-11-29", "2026-11-29T10:00:00", "2026-11-29T10:00Z", "2026-13-01T00:00:00Z",
                      "2025-02-29T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:00:00.Z", "2026-11-29T10:00:00+0800",
                      "2026-11-29T10:00:00Z trailing", "Sun, 29 Nov 2026 10:00:00 GMT"])
    func rejects(text: String) {
        #expect(RFC3339.date(text) == nil, "\(text)")
    }

    func action(expiresAt: String?, expiresIn: Int? = nil) throws -> BatchObject {
        var header = ""
        if let expiresAt { header += ",\"expires_at\":\"\(expiresAt)\"" }
        if let expiresIn { header += ",\"expires_in\":\(expiresIn)" }
        let json = "{\"oid\":\"\(String(repeating: "a", count: 64))\",\"size\":1,"
            + "\"actions\":{\"download\":{\"href\":\"https://storage.example/o\"\(header)}}}"
        return try JSONDecoder().decode(BatchObject.self, from: Data(json.utf8))
    }

    @Test func anActionPastItsExpiresAtIsNotUsed() throws {
        let past = "2020-01-01T08:00:00.123456789+08:00"
        #expect(try action(expiresAt: past).action("download") == nil)
        let future = Date().addingTimeInterval(3600)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let soon = formatter.string(from: future) + ".987654321+08:00"
        #expect(try action(expiresAt: soon).action("download") != nil)
        // expires_in wins, as git-lfs has it.
        #expect(try action(expiresAt: past, expiresIn: 3600).action("download") != nil)
        // Within the margin counts as expired.
        #expect(try action(expiresAt: nil, expiresIn: 10).action("download") == nil)
    }
}
