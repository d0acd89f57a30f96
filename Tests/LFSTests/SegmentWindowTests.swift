import LFS
import Testing

/// `SegmentWindow` driven by a model link: `connections(window)` segments of 4 MiB stream at once,
/// each at `rate` bytes per second after waiting `wait` for its first byte.
@Suite struct SegmentWindowTests {
    static let segment: Int64 = 4 << 20

    /// Completes `segments` segments as a link would carry them with the window in force, and
    /// returns the windows seen.
    func drive(segments: Int, wait: Duration, rate: (Int) -> Double) -> [Int] {
        var window = SegmentWindow(segmentBytes: Self.segment)
        var now = Duration.zero
        var seen = [window.size]
        var done = 0
        while done < segments {
            // A round of `size` segments at once: each takes wait + bytes / its rate.
            let size = window.size
            let streaming = Duration.seconds(Double(Self.segment) / rate(size))
            now += wait + streaming
            for _ in 0..<size where done < segments {
                window.completed(bytes: Self.segment, wait: wait, elapsed: wait + streaming, at: now)
                done += 1
            }
            seen.append(window.size)
        }
        return seen
    }

    @Test func aCappedDistantLinkGetsMoreConnections() {
        // 40 MB/s per connection whatever their number, 30 ms away: each doubling carries twice.
        let windows = drive(segments: 64, wait: .milliseconds(30), rate: { _ in 40e6 })
        #expect(windows.first == 4)
        // As many as carry 400 MB/s at 40 MB/s each, each waiting 30 ms of every 135: 13 (within
        // the 24 segments of 4 MiB an object may have).
        #expect(windows.last == 13, "\(windows)")
    }

    @Test func aBusyMachineKeepsFour() {
        // Loopback, but the disk takes 300 MB/s in all: more connections only share it.
        let windows = drive(segments: 64, wait: .microseconds(200), rate: { 300e6 / Double($0) })
        #expect(windows.last == 4, "\(windows)")
    }

    @Test func aLargerWindowThatCarriesNoMoreIsDropped() {
        // Capped at 40 MB/s per connection, but the link carries 200 MB/s in all: eight
        // connections (160 MB/s) pass the test, ten (still 200 MB/s in all) do not.
        let windows = drive(segments: 96, wait: .zero, rate: { min(40e6, 200e6 / Double($0)) })
        #expect(windows.contains(8), "\(windows)")
        #expect(windows.last == 8, "\(windows)")
    }

    @Test func aFarHostStartsWithTheBytesOnTheWire() {
        // 200 ms at 400 MB/s is 80 MB on the wire: 20 segments of 4 MiB at once, not four and
        // rounds of trials; 80 ms, 32 MB: eight.
        #expect(SegmentWindow(segmentBytes: Self.segment, roundTrip: .milliseconds(200)).size == 20)
        #expect(SegmentWindow(segmentBytes: Self.segment, roundTrip: .milliseconds(80)).size == 8)
        // Near, or not known yet: four, as before.
        #expect(SegmentWindow(segmentBytes: Self.segment, roundTrip: .milliseconds(30)).size == 4)
        #expect(SegmentWindow(segmentBytes: Self.segment, roundTrip: nil).size == 4)
    }
}
