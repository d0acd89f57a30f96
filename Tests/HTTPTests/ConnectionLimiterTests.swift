import Foundation
import Testing
@testable import HTTP

@Suite struct ConnectionLimiterTests {
    struct Hung: Error {}

    /// `body`'s result, or `Hung` if it has not finished after `limit` (a guard against a hang only).
    func finishes<T: Sendable>(within limit: Duration = .seconds(10), _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Hung() }
            return value
        }
    }

    @Test func aRequestWaitsOnlyForItsOwnOrigin() async throws {
        // The batch API's origin must not queue behind storage downloads on another.
        let limiter = ConnectionLimiter(perOrigin: 1)
        let storage = Origin(scheme: "https", host: "storage.example", port: nil)
        let hub = Origin(scheme: "https", host: "hub.example", port: nil)
        try await limiter.acquire(storage)
        try await finishes { try await limiter.acquire(hub) }
        // A second request to the full origin waits until the first lets go.
        let waiting = Task { try await limiter.acquire(storage) }
        await #expect(throws: Hung.self) { try await finishes(within: .milliseconds(300)) { try await limiter.acquire(storage) } }
        limiter.release(storage)
        try await finishes { try await waiting.value }
    }

    @Test func aCancelledWaiterGivesUpItsTurn() async throws {
        let limiter = ConnectionLimiter(perOrigin: 1)
        try await limiter.acquire(nil)
        let waiter = Task { try await limiter.acquire(nil) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        limiter.release(nil)
        try await finishes { try await limiter.acquire(nil) }
    }
}
