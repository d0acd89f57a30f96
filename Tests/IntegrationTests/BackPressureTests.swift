import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Synchronization
import Testing

/// A download is read no faster than it is stored (issue 26): `HTTPClient.stream` hands each piece
/// to its writer on libcurl's thread, and libcurl reads no more from the socket until the writer
/// returns. FoundationNetworking, which downloads went through before, read on at the link's speed
/// and queued the bytes for a writer that lagged: memory grew with the distance between them.
@Suite struct BackPressureTests {
    let fault = FaultServer.shared

    /// The writer stalls for two seconds on its first piece, as a disk does under writeback. With
    /// back-pressure the server cannot finish writing 256 MiB before the writer wakes (the
    /// sockets' buffers hold a few MiB); a client that queues what it reads lets it finish at once.
    @Test func aStalledWriterHoldsTheServerBack() async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        let mark = fault.logSize
        let woke = Mutex<Double?>(nil)
        let taken = Mutex<Int64>(0)
        let request = URLRequest(url: URL(string: "\(fault.url)/flood/256")!)
        let response = try await client.stream(request, accept: { $0.statusCode == 200 }, write: { data in
            let first = taken.withLock { total in
                defer { total += Int64(data.count) }
                return total == 0
            }
            if first {
                Thread.sleep(forTimeInterval: 2)
                woke.withLock { $0 = Date().timeIntervalSince1970 }
            }
        })
        #expect(response.status == 200)
        #expect(taken.withLock { $0 } == 256 << 20)
        let sent = try #require(fault.requests(since: mark).first { $0.method == "SENT" && $0.path == "/flood/256" })
        let wake = try #require(woke.withLock { $0 })
        #expect(try #require(sent.time) > wake,
                "the server wrote the whole body while the writer stalled: it waited in this process's memory")
    }

    /// A writer's error ends the download and comes back as it was thrown; a refused answer is not
    /// read at all.
    @Test func aWritersErrorAndARefusedAnswer() async throws {
        struct DiskFull: Error {}
        let client = HTTPClient()
        defer { client.shutdown() }
        let request = URLRequest(url: URL(string: "\(fault.url)/flood/64")!)
        await #expect(throws: DiskFull.self) {
            _ = try await client.stream(request, accept: { _ in true }, write: { _ in throw DiskFull() })
        }
        let writes = Atomic<Int>(0)
        let refused = try await client.stream(request, accept: { $0.statusCode == 206 }, write: { _ in
            writes.add(1, ordering: .relaxed)
        })
        #expect(refused.status == 200 && refused.body.isEmpty && writes.load(ordering: .relaxed) == 0)
    }

    /// `shutdown()` ends a download under way (a body that stalls halfway), as it ends every other
    /// request of the client.
    @Test func shutdownEndsADownloadUnderWay() async throws {
        let client = HTTPClient()
        let started = Atomic<Bool>(false)
        let request = URLRequest(url: URL(string: "\(fault.url)/stallbody/1000000")!)
        let download = Task {
            try await client.stream(request, accept: { _ in true }, write: { _ in started.store(true, ordering: .relaxed) })
        }
        while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }
        client.shutdown()
        await #expect(throws: HTTPClient.Failure.cancelled) { _ = try await download.value }
    }
}
