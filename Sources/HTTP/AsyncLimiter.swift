import Synchronization

/// A counting semaphore for async code: `acquire(n)` waits (cancellably) until `n` of the `count`
/// units are free and takes them. Waiters are served in order, so a large request is not starved
/// by small ones; a request for more than `count` takes all of them (and `acquire` says how many
/// it took, for `release`).
public final class AsyncLimiter: Sendable {
    private struct Waiter {
        var id: UInt64
        var units: Int
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var count: Int
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0

        /// The units a request for `units` really takes.
        func clamped(_ units: Int) -> Int { min(max(1, units), count) }
    }
    private let state: Mutex<State>

    /// A limiter of `count` units, all free; a count under 1 is taken as 1.
    public init(_ count: Int) {
        state = Mutex(State(count: max(1, count), available: max(1, count)))
    }

    /// The units there are.
    public var count: Int { state.withLock { $0.count } }

    /// More units from now on (fewer are ignored): for a limit that grows with what is learned.
    public func raise(to count: Int) {
        let ready = state.withLock { s -> [Waiter] in
            guard count > s.count else { return [] }
            s.available += count - s.count
            s.count = count
            return Self.admit(&s)
        }
        for next in ready { next.continuation.resume() }
    }

    /// Takes `units` (all of them if more than `count`), waiting until they are free; returns
    /// the units taken, which `release` must get back.
    @discardableResult
    public func acquire(_ units: Int = 1) async throws -> Int {
        let (units, id) = state.withLock { s -> (Int, UInt64) in
            s.nextID += 1
            return (s.clamped(units), s.nextID)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: a cancel handler that ran before this found no waiter.
                let outcome = state.withLock { s -> Bool? in
                    if Task.isCancelled { return false }
                    if s.waiters.isEmpty, s.available >= units {
                        s.available -= units
                        return true
                    }
                    s.waiters.append(Waiter(id: id, units: units, continuation: continuation))
                    return nil
                }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
            return units
        } onCancel: {
            let (waiter, ready) = state.withLock { s -> (Waiter?, [Waiter]) in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return (nil, []) }
                let removed = s.waiters.remove(at: index)
                // The head may fit now that a larger request before it has left.
                return (removed, Self.admit(&s))
            }
            waiter?.continuation.resume(throwing: CancellationError())
            for next in ready { next.continuation.resume() }
        }
    }

    /// Gives back units `acquire` took.
    public func release(_ units: Int = 1) {
        let ready = state.withLock { s -> [Waiter] in
            s.available += units
            return Self.admit(&s)
        }
        for next in ready { next.continuation.resume() }
    }

    /// Takes the units of the waiters at the head that fit, in order.
    private static func admit(_ s: inout State) -> [Waiter] {
        var ready: [Waiter] = []
        while let head = s.waiters.first, s.available >= head.units {
            s.available -= head.units
            ready.append(s.waiters.removeFirst())
        }
        return ready
    }
}
