import Foundation
import HTTP
import Testing

@Suite struct AsyncLimiterTests {
    struct Hung: Error {}

    /// `body`'s result, or `Hung` if it has not finished after `limit` (a guard against a hang only).
    func finishes(within limit: Duration = .seconds(10), _ body: @escaping @Sendable () async throws -> Void)
        async throws
    {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else { throw Hung() }
        }
    }

    @Test func unitsAreTakenAndGivenBack() async throws {
        let budget = AsyncLimiter(10)
        try await budget.acquire(6)
        try await finishes { try await budget.acquire(4) }
        // Full: one more unit waits until 3 come back, and then takes them in order.
        let waiting = Task { try await budget.acquire(3) }
        await #expect(throws: Hung.self) { try await finishes(within: .milliseconds(300)) { try await budget.acquire(1) } }
        budget.release(6)
        try await finishes { _ = try await waiting.value }
    }

    @Test func aLargeRequestIsNotStarvedBySmallOnes() async throws {
        let budget = AsyncLimiter(4)
        try await budget.acquire(3)
        let large = Task { try await budget.acquire(4) }
        try await Task.sleep(for: .milliseconds(50))
        // One unit is free, but the large request is first in line.
        await #expect(throws: Hung.self) { try await finishes(within: .milliseconds(300)) { try await budget.acquire(1) } }
        budget.release(3)
        try await finishes { _ = try await large.value }
    }

    @Test func aRequestForMoreThanAllTakesAll() async throws {
        let budget = AsyncLimiter(4)
        let taken = try await budget.acquire(100)
        #expect(taken == 4)
        await #expect(throws: Hung.self) { try await finishes(within: .milliseconds(300)) { try await budget.acquire(1) } }
        budget.release(taken)
        try await finishes { try await budget.acquire(4) }
    }

    @Test func raisingTheCountLetsWaitersIn() async throws {
        let budget = AsyncLimiter(2)
        try await budget.acquire(2)
        let waiting = Task { try await budget.acquire(1) }
        try await Task.sleep(for: .milliseconds(50))
        budget.raise(to: 3)
        try await finishes { _ = try await waiting.value }
        #expect(budget.count == 3)
        budget.raise(to: 1)  // never lowered
        #expect(budget.count == 3)
    }

    @Test func aCancelledLargeWaiterLetsTheNextOneIn() async throws {
        let budget = AsyncLimiter(4)
        try await budget.acquire(3)
        let large = Task { try await budget.acquire(4) }
        try await Task.sleep(for: .milliseconds(50))
        let small = Task { try await budget.acquire(1) }
        try await Task.sleep(for: .milliseconds(50))
        large.cancel()
        await #expect(throws: CancellationError.self) { try await large.value }
        try await finishes { _ = try await small.value }
    }
}
