import HTTP
import Testing

@Suite struct RoundTripsTests {
    let hub = Origin(scheme: "https", host: "hub.example", port: nil)
    let storage = Origin(scheme: "https", host: "storage.example", port: nil)

    @Test func theShortestWaitIsTheEstimate() {
        let trips = RoundTrips()
        #expect(trips.estimate(for: hub) == nil)
        trips.record(.milliseconds(90), for: hub)  // a new connection: handshake and server work
        trips.record(.milliseconds(31), for: hub)
        trips.record(.milliseconds(45), for: hub)
        #expect(trips.estimate(for: hub) == .milliseconds(31))
        // A long stretch of inflated waits (this process busy) does not make the host farther.
        for _ in 0..<100 { trips.record(.milliseconds(50), for: hub) }
        #expect(trips.estimate(for: hub) == .milliseconds(31))
    }

    @Test func eachOriginHasItsOwn() {
        let trips = RoundTrips()
        trips.record(.milliseconds(40), for: hub)
        #expect(trips.estimate(for: storage) == nil)
        trips.record(.milliseconds(12), for: storage)
        #expect(trips.estimate(for: storage) == .milliseconds(12))
        #expect(trips.estimate(for: hub) == .milliseconds(40))
    }

    @Test func aWaitThatHeldAHandshakeCountsForItsRoundTrips() {
        let trips = RoundTrips()
        let plain = Origin(scheme: "http", host: "storage.example", port: nil)
        trips.record(.milliseconds(62), for: plain, connection: .opened)  // TCP's handshake + the request
        #expect(trips.estimate(for: plain) == .milliseconds(31))
        trips.record(.milliseconds(96), for: storage, connection: .opened)  // + TLS's
        #expect(trips.estimate(for: storage) == .milliseconds(32))
        trips.record(.milliseconds(30), for: storage, connection: .reused)
        #expect(trips.estimate(for: storage) == .milliseconds(30))
        // A request that may have done either says nothing.
        trips.record(.milliseconds(31), for: storage, connection: .unknown)
        trips.record(.milliseconds(20), for: storage, connection: .unknown)
        #expect(trips.estimate(for: storage) == .milliseconds(30))
    }

    /// As libcurl picks an HTTP/1.1 connection: before any answer, each request opens one; a
    /// request started while fewer are in flight than have been finds one idle; any other may
    /// have done either (our count of requests in flight lags libcurl's).
    @Test func whichRequestsOpenConnections() {
        let trips = RoundTrips()
        #expect(trips.begin(storage) == .opened)
        #expect(trips.begin(storage) == .opened)
        #expect(trips.begin(hub) == .opened)  // another origin has connections of its own
        trips.end(storage)
        #expect(trips.begin(storage) == .reused)  // the one just answered is idle
        #expect(trips.begin(storage) == .unknown)  // a third at once, after an answer
        trips.end(storage)
        trips.end(storage)
        trips.end(storage)
        #expect(trips.begin(storage) == .reused)
        #expect(trips.begin(storage) == .reused)
        #expect(trips.begin(storage) == .reused)
        #expect(trips.begin(storage) == .unknown)
    }
}
