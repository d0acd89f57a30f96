import LFS
import Testing

@Suite struct InFlightTests {
    @Test func transfersGrowWithTheRoundTrip() {
        #expect(InFlight.transfers(roundTrip: nil) == 8)
        #expect(InFlight.transfers(roundTrip: .microseconds(300)) == 9)
        #expect(InFlight.transfers(roundTrip: .milliseconds(30)) == 38)
        #expect(InFlight.transfers(roundTrip: .milliseconds(200)) == 64)
        #expect(InFlight.transfers(roundTrip: .seconds(3)) == 64)
    }

    @Test func fewObjectsGetFewConnections() {
        // A new connection costs a round trip of its own: not worth it for one or two requests.
        #expect(InFlight.transfers(roundTrip: .milliseconds(200), remaining: 50) == 16)
        #expect(InFlight.transfers(roundTrip: .milliseconds(200), remaining: 10) == 8)
        #expect(InFlight.transfers(roundTrip: .milliseconds(30), remaining: 1000) == 38)
    }

    @Test func openConnectionsStayInUseToTheEnd() {
        // 38 connections opened for a host 30 ms away: the last 60 objects still use them.
        #expect(InFlight.transfers(roundTrip: .milliseconds(30), remaining: 60, open: 38) == 38)
        // ... but the round trip still bounds them (an early estimate opened more).
        #expect(InFlight.transfers(roundTrip: .milliseconds(30), remaining: 60, open: 64) == 38)
        #expect(InFlight.transfers(roundTrip: nil, remaining: 60, open: 38) == 8)
    }

    @Test func segmentsStayFewOnAFastNearHost() {
        // 4 MiB in 4 ms after a 0.3 ms wait: one connection would do.
        #expect(InFlight.segments(segmentBytes: 4 << 20, wait: .microseconds(300), streaming: .milliseconds(4)) == 4)
    }

    @Test func segmentsFillACappedConnection() {
        // 40 MB/s per connection (4 MiB in 105 ms), no wait: ten streams reach 400 MB/s.
        #expect(InFlight.segments(segmentBytes: 4 << 20, wait: .zero, streaming: .milliseconds(105),
                                  memory: 64 << 20) == 11)
        // 30 ms away, each stream is busy 105 of every 135 ms: more of them.
        #expect(InFlight.segments(segmentBytes: 4 << 20, wait: .milliseconds(30), streaming: .milliseconds(105),
                                  memory: 64 << 20) == 15)
    }

    @Test func segmentMemoryBoundsTheWindow() {
        // 200 ms away: wanted 30 or more, but 24 segments of 4 MiB are the 96 MiB allowed.
        #expect(InFlight.segments(segmentBytes: 4 << 20, wait: .milliseconds(200), streaming: .milliseconds(105)) == 24)
        #expect(InFlight.segments(segmentBytes: 8 << 20, wait: .milliseconds(200), streaming: .milliseconds(105)) == 12)
        // Never below the starting window, whatever the memory.
        #expect(InFlight.segments(segmentBytes: 64 << 20, wait: .milliseconds(200), streaming: .seconds(1)) == 4)
    }

    @Test func streamMemoryFollowsTheBytesOnTheWire() {
        #expect(InFlight.streamMemory(roundTrip: nil) == 24 << 20)
        #expect(InFlight.streamMemory(roundTrip: .milliseconds(30)) == 24 << 20)
        // 400 MB/s for 200 ms: 80 MB on the wire.
        #expect(InFlight.streamMemory(roundTrip: .milliseconds(200)) == 80_000_000)
        #expect(InFlight.streamMemory(roundTrip: .seconds(1)) == 160 << 20)
    }
}
