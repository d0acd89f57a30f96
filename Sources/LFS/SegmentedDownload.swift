import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP

extension ObjectDownloader {
    /// Segments several at a time (several connections fill the pipe), each written at its offset
    /// of the partial file; the prefix is hashed and recorded as it grows. How many are in flight
    /// follows what the segments so far took (`SegmentWindow`): a storage host that caps each
    /// connection, or is far away, gets more of them at once.
    func downloadSegments(_ pointer: Pointer, request: URLRequest, partial: PartialFile, have start: Int64,
                                  progress: @escaping @Sendable (Int64) -> Void) async throws -> URL?
    {
        let fd = try partial.open()
        defer { close(fd) }
        // The length is on disk before any byte lands beyond it; nothing past it is kept.
        try partial.record(start)
        ftruncate(fd, off_t(start))
        var hasher = SHA256()
        if start > 0 {
            logger.debug("resuming \(pointer.oid.prefix(12)) at \(start) of \(pointer.size) bytes")
            hasher = try await Self.hash(fd, name: partial.url.path, from: 0, count: start, into: hasher)
        }
        // A resumed download's earlier bytes would not be in a copy: none is made, and the caller
        // copies from the store.
        let copy = start == 0 ? try openCopy(pointer) : nil
        var handedOver = false
        defer { if !handedOver { copy?.discard() } }
        let room = try space.reserve((pointer.size - start).saturatingMultiply(copy == nil ? 1 : 2), on: partial.url,
                                     purpose: "storing \(pointer.oid.prefix(12))")
        defer { withExtendedLifetime(room) {} }
        let size = segmentSize(for: pointer.size)
        let ranges = SegmentRanges(start: start, end: pointer.size, segment: size)
        var have = start
        let outcome: SegmentsOutcome
        do {
            outcome = try await withThrowingTaskGroup(of: Segment.self) { group in
                var next = 0
                var done = 0
                let storage = request.url.flatMap(Origin.init)
                /// The round trip to the storage host: the shorter of what the two clients measured.
                func roundTrip() -> Duration? {
                    storage.flatMap { origin in
                        [http.roundTrips.estimate(for: origin), bulk?.roundTrips.estimate(for: origin)].compactMap { $0 }.min()
                    }
                }
                var window = SegmentWindow(segmentBytes: size, roundTrip: roundTrip())
                let started = ContinuousClock.now
                var arrived: [Int: Segment] = [:]
                var sinks: [FileSink] = []
                // No write may land after the descriptor is closed (or the file cut): every sink
                // is shut before this returns, whatever happens.
                defer { for sink in sinks { sink.close() } }
                func launch() {
                    guard next < ranges.count, next - done < window.size else { return }
                    let (index, (from, to)) = (next, ranges[next])
                    next += 1
                    var segment = request
                    segment.setValue("bytes=\(from)-\(to)", forHTTPHeaderField: "Range")
                    let sink = FileSink(fd: fd, copy: copy?.fd, name: partial.url.path, offset: from, length: to - from + 1,
                                        hashing: false)
                    sinks.append(sink)
                    group.addTask { [self] in
                        let response = try await fetch(segment, pointer: pointer, through: bulk, progress: progress,
                                                       sink: sink) { http in
                            http.statusCode == 206 && ContentRange(http.value(forHTTPHeaderField: "Content-Range"))
                                .map { $0.start == from && $0.end == to && ($0.total == nil || $0.total == pointer.size) } == true
                        }
                        try sink.finish()
                        return Segment(index: index, response: response, written: sink.written)
                    }
                }
                for _ in 0..<window.size { launch() }
                while let segment = try await group.next() {
                    arrived[segment.index] = segment
                    if segment.response.status == 206, let wait = segment.response.wait,
                       let elapsed = segment.response.elapsed {
                        window.completed(bytes: segment.written, wait: wait, elapsed: elapsed,
                                         at: ContinuousClock.now - started)
                        followDistance(roundTrip(), cap: InFlight.segmentMemory)
                    }
                    while let ready = arrived.removeValue(forKey: done) {
                        let (from, to) = ranges[ready.index]
                        switch ready.response.status {
                        case 206 where ready.written == to - from + 1:
                            hasher = try await Self.hash(fd, name: partial.url.path, from: from, count: to - from + 1,
                                                         into: hasher)
                            have = to + 1
                            try partial.record(have)
                            done += 1
                        case 206:
                            let range = ready.response.header("Content-Range") ?? "none"
                            throw LFSError(.protocolError, "the storage server answered a Range request for "
                                + "\(pointer.oid.prefix(12)) with a range that does not fit (\(range), "
                                + "\(ready.written) bytes for bytes \(from)-\(to))")
                        case 200:
                            // Range ignored: the server only gives the whole object.
                            group.cancelAll()
                            return .ignoredRange
                        case 416:
                            group.cancelAll()
                            return .restart
                        default:
                            throw statusError(ready.response, pointer)
                        }
                    }
                    while next < ranges.count, next - done < window.size { launch() }
                }
                return .complete
            }
        } catch let error as LFSError where error.kind == .integrity {
            partial.remove()
            throw error
        } catch {
            // Stopped (cancelled, a failed segment): keep exactly the verified-in-order prefix.
            ftruncate(fd, off_t(have))
            partial.forgetLength()
            throw error
        }
        switch outcome {
        case .ignoredRange:
            logger.info("the storage server ignored Range for \(pointer.oid.prefix(12)); downloading it whole")
            partial.remove()
            try await downloadWholeThroughFile(pointer, request: request, progress: progress)
            return nil
        case .restart:
            guard start > 0 else { throw LFSError(.server, "the storage server refused every range of \(pointer.oid.prefix(12))") }
            logger.info("the storage server refused the range for \(pointer.oid.prefix(12)); starting over")
            try partial.record(0)
            return try await downloadSegments(pointer, request: request, partial: partial, have: 0, progress: progress)
        case .complete:
            break
        }
        let digest = hasher.finalize().hexString
        guard digest == pointer.oid, have == pointer.size else {
            partial.remove()
            throw mismatch(pointer, digest: digest, bytes: have)
        }
        ftruncate(fd, off_t(pointer.size))
        try store.insert(partial.name, in: partial.directory, for: pointer)
        partial.forgetLength()
        handedOver = true
        return copy?.handOver()
    }

    /// `hasher` after reading `count` bytes of `file` from `from` into it, off the concurrency pool.
    static func hash(_ fd: Int32, name: String, from: Int64, count: Int64, into hasher: SHA256) async throws -> SHA256 {
        try await BlockingWork.run {
            var hasher = hasher
            try ObjectStore.read(fd: fd, name: name, from: UInt64(from), count: count) { hasher.update(bufferPointer: $0) }
            return hasher
        }
    }

    private struct Segment: Sendable {
        var index: Int
        var response: HTTPClient.Response
        var written: Int64
    }

    private enum SegmentsOutcome {
        case complete
        case ignoredRange
        case restart
    }
}

/// The byte ranges of an object's segments from `start`, computed when asked rather than listed:
/// a pointer's size is whatever its author wrote.
struct SegmentRanges {
    let start: Int64
    let end: Int64
    let segment: Int64

    var count: Int {
        let total = max(0, end - start)
        return Int(total / segment + (total % segment == 0 ? 0 : 1))
    }

    subscript(index: Int) -> (Int64, Int64) {
        let from = start.saturatingAdd(Int64(index).saturatingMultiply(segment))
        return (from, min(from.saturatingAdd(segment), end) - 1)
    }
}

/// "bytes 100-199/1000" (total may be "*").
struct ContentRange {
    var start: Int64
    var end: Int64
    var total: Int64?

    init?(_ header: String?) {
        guard let header, header.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = header.dropFirst(6)
        let parts = spec.split(separator: "/", maxSplits: 1)
        let range = parts.first?.split(separator: "-", maxSplits: 1) ?? []
        guard range.count == 2, let start = Int64(range[0]), let end = Int64(range[1]), end >= start else { return nil }
        self.start = start
        self.end = end
        total = parts.count == 2 ? Int64(parts[1]) : nil
    }
}
