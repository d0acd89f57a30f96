import Synchronization

/// The round trip to each origin, as the answers show it: the shortest wait for an answer's
/// first byte from that origin so far.
///
/// The shortest, not the mean: a wait also holds the server's work and the queue behind our own
/// requests, and neither is distance. TCP and BBR take the minimum for the same reason, over a
/// window of seconds to follow a route that changes; here it is the minimum since the client
/// began, because a wait measured in the application also holds this process's own queueing (the
/// delegate queue, a CPU busy with the files), which a busy machine keeps up for long stretches,
/// and a larger estimate only opens more connections. It is what the LFS transfers size their
/// requests in flight by (`InFlight`).
///
/// A request that has to open a connection also waits for its handshake: a round trip for TCP
/// and one more for TLS. The first requests to a host all do, so their waits alone would put the
/// host two or three times as far as it is (30 ms read as 63 ms through the benchmark's proxy),
/// and the transfers would open connections for a host that far. URLSession on Linux does not
/// say which connection a request used, so `begin` infers it the way libcurl picks one for
/// HTTP/1.1: a request finds an idle connection if fewer requests are in flight than have ever
/// been at once (that many connections were opened, and libcurl keeps them), and otherwise opens
/// one. Such a request's wait counts as the handshake's round trips plus the request's: divided by
/// two for http and three for https. A connection libcurl closed meanwhile makes that guess wrong
/// the other way: a wait that counts whole though it held a handshake, which the minimum then
/// leaves aside.
public final class RoundTrips: Sendable {
    private struct Host {
        var shortest: Duration?
        var inFlight = 0
        var mostAtOnce = 0
    }
    private let hosts = Mutex<[Origin: Host]>([:])

    public init() {}

    /// A request to `origin` starts. Returns whether it (probably) opens a connection, to hand
    /// to `record`; `end` must follow.
    public func begin(_ origin: Origin) -> Bool {
        hosts.withLock { table in
            var host = table[origin] ?? Host()
            let opens = host.inFlight >= host.mostAtOnce
            host.inFlight += 1
            host.mostAtOnce = max(host.mostAtOnce, host.inFlight)
            table[origin] = host
            return opens
        }
    }

    /// A request that `begin` counted is over.
    public func end(_ origin: Origin) {
        hosts.withLock { table in table[origin]?.inFlight -= 1 }
    }

    /// One answer's wait for its first byte. `openedConnection`: the request also waited for a
    /// new connection's handshake (`begin`'s answer).
    public func record(_ wait: Duration, for origin: Origin, openedConnection: Bool = false) {
        let trip = openedConnection ? wait / Self.handshakeTrips(origin) : wait
        hosts.withLock { table in
            var host = table[origin] ?? Host()
            host.shortest = min(trip, host.shortest ?? trip)
            table[origin] = host
        }
    }

    /// The round trips a request on a new connection waits for: TCP's handshake and the request's,
    /// and TLS's handshake for https (one round trip with TLS 1.3; 1.2's second is not counted,
    /// which errs towards a nearer host and fewer connections).
    static func handshakeTrips(_ origin: Origin) -> Int { origin.scheme == "https" ? 3 : 2 }

    /// The estimate for `origin`, or nil before any answer came from it. Only the origin's own
    /// answers count: another host's (the batch API's, whose answers also hold the LFS server's
    /// work, often tens of milliseconds of it) says little about this one.
    public func estimate(for origin: Origin) -> Duration? {
        hosts.withLock { $0[origin]?.shortest }
    }
}
