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
/// A request that has to open a connection also waits for its handshake: a round trip for TCP and
/// one more for TLS. The first requests to a host all do, so their waits alone would put the host
/// two or three times as far as it is (30 ms read as 63 ms through the benchmark's proxy), and
/// the transfers would open connections for a host that far. The libcurl exchanges (downloads,
/// uploads, `send`) know: their wait runs from the connection being ready, or from the request's
/// last byte, and is recorded whole. URLSession on Linux does not say which connection a request
/// used, so for its tasks (a download through a file) `begin` infers it, the way libcurl picks one
/// for HTTP/1.1:
///
/// - Before any request to the origin has been answered, there is no connection to reuse: each
///   request opens one, and its wait counts as the handshake's round trips and the request's
///   (divided by two for http, three for https).
/// - A request that starts while fewer are in flight than have ever been at once finds one idle
///   (that many connections were opened, and libcurl keeps them): its wait counts whole. (A
///   connection libcurl closed meanwhile makes this wrong: a wait that held a handshake counts
///   whole, and the minimum leaves it aside.)
/// - Any other request may have done either, and its wait does not count: our count of requests
///   in flight lags libcurl's (a connection is idle to libcurl before its answer has reached us),
///   so many of them found a connection idle, and divided, their waits put the host at half its
///   distance (the 30 ms host read as 19 ms, and pulls ran 27 downloads at once instead of 41).
public final class RoundTrips: Sendable {
    /// What `begin` inferred about a request's connection: `opened` (a new one, handshake
    /// included in its wait), `reused` (one left idle), or `unknown` (either).
    public enum Connection: Sendable {
        case opened, reused, unknown
    }

    private struct Host {
        var shortest: Duration?
        var inFlight = 0
        var mostAtOnce = 0
        var answered = 0
    }
    private let hosts = Mutex<[Origin: Host]>([:])

    /// No origin measured yet.
    public init() {}

    /// A request to `origin` starts; `end` must follow. The answer goes to `record`.
    public func begin(_ origin: Origin) -> Connection {
        hosts.withLock { table in
            var host = table[origin] ?? Host()
            let connection: Connection = host.inFlight < host.mostAtOnce ? .reused
                : host.answered == 0 ? .opened : .unknown
            host.inFlight += 1
            host.mostAtOnce = max(host.mostAtOnce, host.inFlight)
            table[origin] = host
            return connection
        }
    }

    /// A request that `begin` counted is over.
    public func end(_ origin: Origin) {
        hosts.withLock { table in
            table[origin]?.inFlight -= 1
            table[origin]?.answered += 1
        }
    }

    /// One answer's wait for its first byte, on a connection `begin` inferred.
    public func record(_ wait: Duration, for origin: Origin, connection: Connection = .reused) {
        let trip: Duration
        switch connection {
        case .reused: trip = wait
        case .opened: trip = wait / Self.handshakeTrips(origin)
        case .unknown: return
        }
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
