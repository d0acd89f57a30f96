import CoreMetrics
import Synchronization

/// `perOrigin` slots for each origin, which `raise` can add to up to `most`: a request waits
/// only for requests to its own origin, as libcurl limits connections per host. Requests without
/// an origin share one set of slots.
final class ConnectionLimiter: Sendable {
    private let perOrigin: Int
    private let most: Int
    private let limiters = Mutex<[Origin?: AsyncLimiter]>([:])
    /// Slots taken: requests holding a connection, for a service's metrics backend.
    private let inUse = Meter(label: "msgit_http_connections_in_use")

    init(perOrigin: Int, most: Int? = nil) {
        self.perOrigin = perOrigin
        self.most = max(perOrigin, most ?? perOrigin)
    }

    /// At least `count` slots for `origin` from now on (at most `most`).
    func raise(_ origin: Origin?, to count: Int) { limiter(origin).raise(to: min(count, most)) }

    private func limiter(_ origin: Origin?) -> AsyncLimiter {
        limiters.withLock { table in
            if let existing = table[origin] { return existing }
            let made = AsyncLimiter(perOrigin)
            table[origin] = made
            return made
        }
    }

    func acquire(_ origin: Origin?) async throws {
        try await limiter(origin).acquire()
        inUse.increment()
    }

    func release(_ origin: Origin?) {
        inUse.decrement()
        limiter(origin).release()
    }
}
