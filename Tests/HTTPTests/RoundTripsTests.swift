import HTTP
import Testing

@Suite struct RoundTripsTests {
    let hub = Origin(scheme: "https", host: "hub.example", port: nil)
    let storage = Origin(scheme: "https", host: "storage.example", port: nil)

    @Test func theShortestRecentWaitIsTheEstimate() {
        let trips = RoundTrips(window: 3)
        #expect(trips.estimate(for: hub) == nil)
        trips.record(.milliseconds(90), for: hub)  // a new connection: handshake and server work
        trips.record(.milliseconds(31), for: hub)
        trips.record(.milliseconds(45), for: hub)
        #expect(trips.estimate(for: hub) == .milliseconds(31))
        // Only the last `window` waits count: the network changed.
        trips.record(.milliseconds(200), for: hub)
        trips.record(.milliseconds(210), for: hub)
        trips.record(.milliseconds(205), for: hub)
        #expect(trips.estimate(for: hub) == .milliseconds(200))
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
