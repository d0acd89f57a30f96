import Synchronization

/// The round trip to each origin, as the answers show it: the shortest wait for an answer's
/// first byte among the last `window` requests to that origin.
///
/// The shortest, not the mean: a wait also holds the server's work, the queue behind our own
/// requests and, on a new connection, its handshake, and none of those is distance. The minimum
/// over recent requests is what TCP's and BBR's estimators take for the same reason. It is what
/// the LFS transfers size their requests in flight by (`InFlight`).
public final class RoundTrips: Sendable {
    private let window: Int
    private let samples = Mutex<[Origin: [Duration]]>([:])

    public init(window: Int = 32) { self.window = max(1, window) }

    public func record(_ wait: Duration, for origin: Origin) {
        samples.withLock { table in
            var recent = table[origin, default: []]
            recent.append(wait)
            if recent.count > window { recent.removeFirst(recent.count - window) }
            table[origin] = recent
        }
    }

    /// The estimate for `origin`, or nil before any answer came from it. Only the origin's own
    /// answers count: another host's (the batch API's, whose answers also hold the LFS server's
    /// work, often tens of milliseconds of it) says little about this one.
    public func estimate(for origin: Origin) -> Duration? {
        samples.withLock { $0[origin]?.min() }
    }
}
