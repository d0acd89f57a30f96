import Foundation
import Testing

/// Requests in flight follow the round trip to the storage host (`InFlight.transfers`): a storage
/// host 50 ms away (the fault server's /delayed/ downloads) gets many more than git-lfs's 8 at
/// once, and `--jobs` still fixes the number. The server counts what is in flight; nothing here
/// is timed.
@Suite struct DownloadsInFlightTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    /// The most /delayed/<tag>/ downloads in flight at once during a clone of 200 small objects.
    func peakInFlight(tag: String, extra: [String] = []) throws -> (peak: Int, downloads: Int, output: String) {
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/delayed-\(tag)/x.git/info/lfs", small: 200)
        let mark = fault.logSize
        let result = Shell.msgit(["clone"] + extra + [repo.url, Paths.scratch("inflight") + "/repo"], env: hub.env)
        // The content served is not the objects': every download fails its check (exit 5), which
        // is fine here, where only how many were asked for at once matters.
        #expect(result.status == 5, "\(result.output)")
        let downloads = fault.requests(since: mark).filter { $0.path.hasPrefix("/delayed/\(tag)/") }
        return (downloads.compactMap(\.inflight).max() ?? 0, downloads.count, result.output)
    }

    @Test func aDistantStorageHostGetsMoreRequestsInFlight() throws {
        let (peak, downloads, output) = try peakInFlight(tag: "auto")
        #expect(downloads == 201, "\(downloads) downloads: \(output)")
        // 50 ms away: 8 + 50 in flight once the first answers showed the round trip.
        #expect(peak > 8, "at most \(peak) downloads in flight")
        #expect(peak <= 64, "\(peak) downloads in flight")
    }

    @Test func jobsFixesTheNumber() throws {
        let (peak, downloads, output) = try peakInFlight(tag: "fixed", extra: ["--jobs", "8"])
        #expect(downloads == 201, "\(downloads) downloads: \(output)")
        #expect(peak <= 8 && peak > 1, "\(peak) downloads in flight")
    }
}
