import HTTP

/// How many Range segments of one object are in flight, adjusted as they complete.
///
/// `InFlight.segments` says how many the measured per-connection rate and wait call for; but a
/// slow connection does not always mean a slow link. On loopback, or a fast network, the
/// connections are slow because the CPU or the disk is busy, and more of them only holds more
/// bytes in memory. So the window grows only by trial: it starts at `InFlight.fewestSegments`,
/// and after every `2 × window` segments compares the throughput of that round with the round
/// before it. A larger window is kept only if it carried at least a fifth more; otherwise the
/// window goes back and stays there. A link capped per connection, or far away, passes the test
/// (eight connections capped at 40 MB/s carry twice what four do); a busy machine does not.
///
/// A host known to be far away starts with more: as many segments as fill what the round trip
/// keeps on the wire at `InFlight.aimBytesPerSecond`, within `InFlight.segmentMemory` (at 200 ms,
/// 80 MB: 19 segments, instead of four and rounds of trials, 1.2 s each there). A near host starts
/// at four, as before. (Through FoundationNetworking the segments in flight waited in memory, and
/// an object was held to ten, the model clone's peak RSS having reached 103-136 MiB with 19.)
///
/// Pure: the caller says when each segment completed, so the tests can drive it.
public struct SegmentWindow: Sendable {
    /// Segments in flight now.
    public private(set) var size = InFlight.fewestSegments
    let most: Int

    private var round = Round()
    private var before: (size: Int, throughput: Double)?
    private var settled = false
    private var bytes: Int64 = 0
    private var wait = Duration.zero
    private var streaming = Duration.zero
    private var count = 0

    private struct Round {
        var start = Duration.zero
        var bytes: Int64 = 0
        var segments = 0
    }

    /// - Parameters:
    ///   - segmentBytes: the size of a full segment, which with `InFlight.segmentMemory` bounds
    ///     the window.
    ///   - roundTrip: the round trip to the storage host, if known.
    public init(segmentBytes: Int64, roundTrip: Duration? = nil) {
        let segment = max(1, segmentBytes)
        most = max(InFlight.fewestSegments, Int(InFlight.segmentMemory / segment))
        let onTheWire = (Double(InFlight.bytesOnTheWire(roundTrip: roundTrip)) / Double(segment)).rounded(.up)
        size = min(most, max(InFlight.fewestSegments, Int(onTheWire)))
    }

    /// One more segment of `bytes` completed `at` (time since the download started), having
    /// waited `wait` for its first byte and taken `elapsed` in all. Returns the window.
    @discardableResult
    public mutating func completed(bytes segment: Int64, wait: Duration, elapsed: Duration, at now: Duration) -> Int {
        bytes += segment
        self.wait += wait
        streaming += max(.zero, elapsed - wait)
        count += 1
        round.bytes += segment
        round.segments += 1
        guard round.segments >= 2 * size, now > round.start else { return size }
        let throughput = Double(round.bytes) / (now - round.start).timeInterval
        if let before, before.size < size, throughput < before.throughput * 1.2 {
            // The larger window carried no more: the limit is not the connections.
            size = before.size
            settled = true
        } else {
            before = (size, throughput)
            let wanted = InFlight.segments(segmentBytes: bytes / Int64(count), wait: self.wait / count,
                                           streaming: streaming / count)
            if !settled, wanted > size { size = min(most, wanted, 2 * size) }
        }
        round = Round(start: now)
        return size
    }
}
