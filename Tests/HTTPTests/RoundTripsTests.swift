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
}
