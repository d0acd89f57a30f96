import Synchronization

/// A counting semaphore for async code: `acquire` waits (cancellably) for one of `count` slots.
final class AsyncLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: count)) }

    func acquire() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: a cancel handler that ran before this found no waiter.
                let outcome = state.withLock { s -> Bool? in
                    if Task.isCancelled { return false }
                    if s.available > 0 {
                        s.available -= 1
                        return true
                    }
                    s.waiters.append((id, continuation))
                    return nil
                }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard !s.waiters.isEmpty else {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}

/// `perOrigin` slots for each origin: a request waits only for requests to its own origin, as
/// libcurl limits connections per host. Requests without an origin share one set of slots.
final class ConnectionLimiter: Sendable {
    private let perOrigin: Int
    private let limiters = Mutex<[Origin?: AsyncLimiter]>([:])

    init(perOrigin: Int) { self.perOrigin = perOrigin }

    private func limiter(_ origin: Origin?) -> AsyncLimiter {
        limiters.withLock { table in
            if let existing = table[origin] { return existing }
            let made = AsyncLimiter(perOrigin)
            table[origin] = made
            return made
        }
    }

    func acquire(_ origin: Origin?) async throws { try await limiter(origin).acquire() }
    func release(_ origin: Origin?) { limiter(origin).release() }
}
