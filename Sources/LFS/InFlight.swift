import HTTP

/// How many LFS requests to keep in flight, sized to the network rather than fixed.
///
/// HTTP/1.1 (what storage hosts and URLSession on Linux speak to us) carries one request per
/// connection at a time, so a small object costs at least a round trip of waiting, and requests
/// in flight are what turn waiting into throughput. git-lfs keeps 8 (`lfs.concurrenttransfers`):
/// enough on a LAN, an eighth of what a 200 ms round trip needs. Both rules here are pure, so that
/// the tests can pin them; `HTTPClient.roundTrips` supplies the round trip.
public enum InFlight {
    /// Downloads at once when the round trip is short (or not known yet): git-lfs's number.
    public static let fewestTransfers = 8
    /// The most: a connection each, to one storage host.
    public static let mostTransfers = 64

    /// Object transfers at once: 8, and one more for each millisecond of round trip, at most 64.
    ///
    /// One small object costs this process about a millisecond (request, verification, rename:
    /// 1,000 objects of 16 KiB take ~0.9 s on loopback), so with `rtt / 1 ms` more requests
    /// waiting, the answers arrive about as fast as they can be handled: at 30 ms, 38 in flight;
    /// at 200 ms, 64, which finishes 1,000 objects in about 16 round trips where 8 take 125.
    ///
    /// And no more than a third of the objects `remaining` (8 at least), unless `open`
    /// connections are there already: a new connection costs a round trip of its own (two or
    /// three with TLS) before its first answer, which pays only if it carries a few requests, but
    /// one that is open costs nothing to use until the last objects.
    public static func transfers(roundTrip: Duration?, remaining: Int = .max, open: Int = 0) -> Int {
        guard let roundTrip else { return fewestTransfers }
        let milliseconds = Int((roundTrip.timeInterval * 1000).rounded(.up))
        let forTheRoundTrip = min(mostTransfers, fewestTransfers + max(0, milliseconds))
        return min(forTheRoundTrip, max(fewestTransfers, remaining / 3, open))
    }

    /// Range segments of one large object worth having in flight, from what its segments took so
    /// far (`SegmentWindow` tries them before keeping them).
    ///
    /// A segment of `segmentBytes` waited `wait` for its first byte and streamed for `streaming`.
    /// Enough connections to carry `aim` bytes per second at the per-connection rate measured
    /// (`segmentBytes / streaming`: a storage host that caps each connection shows its cap
    /// here), and more so that some are streaming while others wait for their first byte. Never
    /// fewer than `fewestSegments`, and never more than `memory / segmentBytes` (bytes asked for
    /// past what the disk takes only wait on the wire: see `HTTPClient.stream`).
    public static func segments(segmentBytes: Int64, wait: Duration, streaming: Duration,
                                aim: Double = Double(aimBytesPerSecond), memory: Int64 = segmentMemory) -> Int {
        let most = max(fewestSegments, Int(memory / max(1, segmentBytes)))
        let streamingSeconds = max(streaming.timeInterval, 0.000_1)
        let rate = Double(segmentBytes) / streamingSeconds
        let streamingConnections = (aim / rate).rounded(.up)
        let busy = streamingSeconds / (streamingSeconds + max(0, wait.timeInterval))
        let wanted = Int((streamingConnections / busy).rounded(.up))
        return min(most, max(fewestSegments, wanted))
    }

    /// Segments in flight before any has come back.
    public static let fewestSegments = 4
    /// The rate the segments of one object aim for: about what a fast disk takes. Past it, bytes
    /// only wait on the wire.
    public static let aimBytesPerSecond: Int64 = 400_000_000
    /// The segment bytes one object may have asked for at once: 24 segments of 4 MiB. They are
    /// on the wire, not in memory (`HTTPClient.stream` reads no faster than the disk takes), so
    /// this bounds connections, not memory. (When downloads went through FoundationNetworking
    /// they waited in memory, and this was 40 MiB; at 200 ms and 40 MB/s per connection a model
    /// clone took 4.35-4.44 s with 40 MiB and 3.59-3.71 s with 96, its peak RSS 66-71 MiB and
    /// 70-72 MiB.)
    public static let segmentMemory: Int64 = 96 << 20
    /// The bytes of all the bodies one LFS pass asks for at once (whole small objects and
    /// segments).
    ///
    /// On a near host, 24 MiB, six segments of 4 MiB (more carry nothing where the disk is the
    /// limit, as on loopback). A far host needs more in flight to fill the link (the
    /// bandwidth-delay product): `aimBytesPerSecond` times the round trip, at most 160 MiB.
    /// These bytes wait on the wire and in the sockets' buffers, not in this process.
    public static func streamMemory(roundTrip: Duration?) -> Int64 {
        min(160 << 20, max(24 << 20, bytesOnTheWire(roundTrip: roundTrip)))
    }

    /// The bytes a link carrying `aimBytesPerSecond` holds in flight over `roundTrip` (the
    /// bandwidth-delay product); none when the round trip is not known.
    public static func bytesOnTheWire(roundTrip: Duration?) -> Int64 {
        Int64(Double(aimBytesPerSecond) * (roundTrip?.timeInterval ?? 0))
    }
}
