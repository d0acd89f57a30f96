import Synchronization

/// The round trip to each origin, as the answers show it: the shortest wait for an answer's
/// first byte from that origin so far.
///
/// The shortest, not the mean: a wait also holds the server's work, the queue behind our own
/// requests and, on a new connection, its handshake, and none of those is distance. TCP and BBR
/// take the minimum for the same reason, over a window of seconds to follow a route that changes;
/// here it is the minimum since the client began, because a wait measured in the application also
/// holds this process's own queueing (the delegate queue, a CPU busy with the files), which a
/// busy machine keeps up for long stretches, and a larger estimate only opens more connections.
/// It is what the LFS transfers size their requests in flight by (`InFlight`).
public final class RoundTrips: Sendable {
    private let shortest = Mutex<[Origin: Duration]>([:])

    public init() {}

    public func record(_ wait: Duration, for origin: Origin) {
        shortest.withLock { table in
            table[origin] = min(wait, table[origin] ?? wait)
        }
    }

    /// The estimate for `origin`, or nil before any answer came from it. Only the origin's own
    /// answers count: another host's (the batch API's, whose answers also hold the LFS server's
    /// work, often tens of milliseconds of it) says little about this one.
    public func estimate(for origin: Origin) -> Duration? {
        shortest.withLock { $0[origin] }
    }
}
