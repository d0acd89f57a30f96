import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization

/// Downloads one object from its `download` action into the store, verified.
///
/// - Bodies are streamed (`HTTPClient.stream`) straight into our own files: no temporary file of
///   Foundation's, no second copy.
/// - Objects up to `wholeLimit` come in one GET into a scratch file, hashed as they arrive, and
///   enter the store by a rename.
/// - Larger objects come in `Range` segments (an eighth of the object, at least `minimumSegment`
///   and at most `maximumSegment` bytes), `window` in flight, each written at its own offset of `incomplete/<oid>.part`. The
///   segments are hashed in order as the contiguous prefix grows, and the prefix's length is kept
///   in `incomplete/<oid>.part.length`, so a killed run leaves a prefix the next run continues
///   from (hashing it again; whatever lies beyond it is cut off). A run that stops without being
///   killed (an error, a cancel) cuts the file to its prefix itself and drops the length file.
///   A server that ignores `Range` (200) gives the whole object, through a download task; a 416
///   starts over.
/// - Either way the object enters the store only if its SHA-256 and size match the pointer;
///   otherwise the partial file is removed and the error names the object.
/// - With `checkoutCopies`, a download that starts from nothing also writes every chunk, in the
///   same call and at the same offset, to a second file in the store's `tmp/`: the work tree's copy,
///   made while the bytes are still in the CPU's cache instead of read back from memory afterwards
///   (on this class of machine that read-back copy cost as much as the download). It is handed
///   over only when the object it mirrors verified, and removed otherwise.
/// - One process at a time works on an object: the partial file is `flock`ed.
struct ObjectDownloader: Sendable {
    let store: ObjectStore
    let http: HTTPClient
    /// The LFS endpoint; hrefs on its origin may get `hubAuthorization`, others never do.
    let endpoint: URL
    let hubAuthorization: String?
    /// The largest segment; objects up to `wholeLimit` are not segmented. Streamed segments are
    /// held in memory as far as the disk lags behind the network, so this also bounds memory.
    let maximumSegment: Int64
    let retry: RetryPolicy
    let space: SpaceGuard
    /// Write a work-tree copy beside each fresh download (clones and pulls into a work tree).
    var checkoutCopies = false
    static let minimumSegment: Int64 = 4 << 20
    static let wholeLimit: Int64 = 8 << 20
    /// Segment requests of one object in flight at once.
    static let window = 4

    func segmentSize(for size: Int64) -> Int64 {
        min(max(size / 8, Self.minimumSegment), max(maximumSegment, Self.minimumSegment))
    }
    let logger: Logger

    /// Downloads `pointer`. `progress` receives byte counts as they arrive (deltas). Returns the
    /// verified work-tree copy when one was made (`checkoutCopies`); the caller owns it.
    @discardableResult
    func download(_ pointer: Pointer, action: BatchObject.Action, progress: @escaping @Sendable (Int64) -> Void)
        async throws -> URL?
    {
        if store.contains(pointer) { return nil }
        if pointer.size == 0 {
            try storeEmptyObject(pointer)
            return nil
        }
        let request = try makeRequest(action)
        let partial = store.partialPath(for: pointer.oid)
        // Small objects come whole into a scratch file of their own and enter the store by an atomic
        // rename: two processes at once cost a download, never the object. Only a partial file
        // needs a lock.
        if pointer.size <= Self.wholeLimit && fileSize(partial) == nil {
            return try await downloadWhole(pointer, request: request, progress: progress)
        }
        try Directories.ensure(store.incompletePath)
        let lock = try await PartialLock.acquire(partial, until: { store.contains(pointer) })
        defer { lock.release() }
        if store.contains(pointer) { return nil }
        let have = PartialFile.prefix(partial, size: pointer.size)
        if have == 0 && pointer.size <= Self.wholeLimit {
            defer { PartialFile.remove(partial) }
            return try await downloadWhole(pointer, request: request, progress: progress)
        }
        return try await downloadSegments(pointer, request: request, partial: partial, have: have, progress: progress)
    }

    /// The work-tree copy of a download starting from nothing, open for writing, or nil.
    private func openCheckoutCopy(_ pointer: Pointer) throws -> CheckoutCopy? {
        guard checkoutCopies else { return nil }
        let url = try store.scratchFile(pointer.oid + ".checkout")
        let fd = open(url.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(url.path): \(String(cString: strerror(errno)))") }
        return CheckoutCopy(url: url, fd: fd)
    }

    /// The GET for an action: its href and headers; the hub's Authorization only on the hub's origin
    /// and only if the action brings none; never http when the endpoint is https.
    func makeRequest(_ action: BatchObject.Action) throws -> URLRequest {
        try Uploader.request(for: action, method: "GET", endpoint: endpoint, hubAuthorization: hubAuthorization)
    }

    /// One GET of the whole object into a scratch file, hashed as it arrives, renamed into the store.
    private func downloadWhole(_ pointer: Pointer, request: URLRequest, progress: @escaping @Sendable (Int64) -> Void)
        async throws -> URL?
    {
        let scratch = try store.scratchFile(pointer.oid)
        let fd = open(scratch.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(scratch.path): \(String(cString: strerror(errno)))") }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(scratch.path)
        }
        let copy = try openCheckoutCopy(pointer)
        var handedOver = false
        defer { if !handedOver { copy?.discard() } }
        let room = try space.reserve(pointer.size * (copy == nil ? 1 : 2), on: scratch,
                                     purpose: "storing \(pointer.oid.prefix(12))")
        defer { withExtendedLifetime(room) {} }
        let sink = FileSink(fd: fd, copy: copy?.fd, name: scratch.path, offset: 0, length: pointer.size, hashing: true)
        defer { sink.close() }
        let response = try await fetch(request, pointer: pointer, progress: progress, sink: sink) { $0.statusCode == 200 }
        guard response.status == 200 else { throw statusError(response, pointer) }
        try sink.finish()
        let (written, digest) = sink.result
        guard written == pointer.size, digest == pointer.oid else {
            throw mismatch(pointer, digest: digest ?? "?", bytes: written)
        }
        closed = true
        close(fd)
        try store.insert(verified: scratch, for: pointer)
        handedOver = true
        return copy?.handOver()
    }

    /// Segments `window` at a time (several connections fill the pipe), each written at its offset
    /// of the partial file; the prefix is hashed and recorded as it grows.
    private func downloadSegments(_ pointer: Pointer, request: URLRequest, partial: URL, have start: Int64,
                                  progress: @escaping @Sendable (Int64) -> Void) async throws -> URL?
    {
        let fd = open(partial.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(partial.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // The length is on disk before any byte lands beyond it; nothing past it is kept.
        try PartialFile.record(start, for: partial)
        ftruncate(fd, off_t(start))
        var hasher = SHA256()
        if start > 0 {
            logger.debug("resuming \(pointer.oid.prefix(12)) at \(start) of \(pointer.size) bytes")
            try ObjectStore.read(partial, count: start) { hasher.update(bufferPointer: $0) }
        }
        // A resumed download's earlier bytes are not in a copy: the work tree then copies from the store.
        let copy = start == 0 ? try openCheckoutCopy(pointer) : nil
        var handedOver = false
        defer { if !handedOver { copy?.discard() } }
        let room = try space.reserve((pointer.size - start) * (copy == nil ? 1 : 2), on: partial,
                                     purpose: "storing \(pointer.oid.prefix(12))")
        defer { withExtendedLifetime(room) {} }
        let size = segmentSize(for: pointer.size)
        let ranges = stride(from: start, to: pointer.size, by: Int(size)).map { ($0, min($0 + size, pointer.size) - 1) }
        var have = start
        let outcome: SegmentsOutcome
        do {
            outcome = try await withThrowingTaskGroup(of: Segment.self) { group in
                var next = 0
                var done = 0
                var arrived: [Int: Segment] = [:]
                var sinks: [FileSink] = []
                // No write may land after the descriptor is closed (or the file cut): every sink
                // is shut before this returns, whatever happens.
                defer { for sink in sinks { sink.close() } }
                func launch() {
                    guard next < ranges.count, next - done < Self.window else { return }
                    let (index, (from, to)) = (next, ranges[next])
                    next += 1
                    var segment = request
                    segment.setValue("bytes=\(from)-\(to)", forHTTPHeaderField: "Range")
                    let sink = FileSink(fd: fd, copy: copy?.fd, name: partial.path, offset: from, length: to - from + 1,
                                        hashing: false)
                    sinks.append(sink)
                    group.addTask { [self] in
                        let response = try await fetch(segment, pointer: pointer, progress: progress, sink: sink) { http in
                            http.statusCode == 206 && ContentRange(http.value(forHTTPHeaderField: "Content-Range"))
                                .map { $0.start == from && $0.end == to && ($0.total == nil || $0.total == pointer.size) } == true
                        }
                        try sink.finish()
                        return Segment(index: index, response: response, written: sink.written)
                    }
                }
                for _ in 0..<Self.window { launch() }
                while let segment = try await group.next() {
                    arrived[segment.index] = segment
                    while let ready = arrived.removeValue(forKey: done) {
                        let (from, to) = ranges[ready.index]
                        switch ready.response.status {
                        case 206 where ready.written == to - from + 1:
                            try ObjectStore.read(partial, from: UInt64(from), count: to - from + 1) {
                                hasher.update(bufferPointer: $0)
                            }
                            have = to + 1
                            try PartialFile.record(have, for: partial)
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
                    launch()
                }
                return .complete
            }
        } catch let error as LFSError where error.kind == .integrity {
            PartialFile.remove(partial)
            throw error
        } catch {
            // Stopped (cancelled, a failed segment): keep exactly the verified-in-order prefix.
            ftruncate(fd, off_t(have))
            PartialFile.forgetLength(partial)
            throw error
        }
        switch outcome {
        case .ignoredRange:
            logger.info("the storage server ignored Range for \(pointer.oid.prefix(12)); downloading it whole")
            PartialFile.remove(partial)
            try await downloadWholeThroughFile(pointer, request: request, progress: progress)
            return nil
        case .restart:
            guard start > 0 else { throw LFSError(.server, "the storage server refused every range of \(pointer.oid.prefix(12))") }
            logger.info("the storage server refused the range for \(pointer.oid.prefix(12)); starting over")
            try PartialFile.record(0, for: partial)
            return try await downloadSegments(pointer, request: request, partial: partial, have: 0, progress: progress)
        case .complete:
            break
        }
        let digest = hasher.finalize().hexString
        guard digest == pointer.oid, have == pointer.size else {
            PartialFile.remove(partial)
            throw mismatch(pointer, digest: digest, bytes: have)
        }
        ftruncate(fd, off_t(pointer.size))
        try store.insert(verified: partial, for: pointer)
        PartialFile.forgetLength(partial)
        handedOver = true
        return copy?.handOver()
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

    /// A large object from a server that ignores `Range`: a download task, whose temporary file
    /// keeps memory bounded however far the disk lags (a stream of the whole object would not).
    private func downloadWholeThroughFile(_ pointer: Pointer, request: URLRequest,
                                          progress: @escaping @Sendable (Int64) -> Void) async throws {
        let scratch = try store.scratchFile(pointer.oid)
        defer { unlink(scratch.path) }
        let host = request.url?.redactedForRedirect ?? "?"
        let reservation = try space.reserve(pointer.size, on: SpaceGuard.foundationTemporaryDirectory,
                                            purpose: "downloading \(pointer.oid.prefix(12)) (set TMPDIR elsewhere)")
        defer { withExtendedLifetime(reservation) {} }
        let response = try await retry.run("download of \(pointer.oid.prefix(12)) from \(host)", logger: logger) {
            let counter = ProgressCounter(progress)
            let response = try await http.download(request, to: scratch) { counter.report(total: $0) }
            counter.report(total: fileSize(scratch) ?? 0)
            return response
        }
        guard response.status == 200 else { throw statusError(response, pointer) }
        let (digest, bytes) = try ObjectStore.digest(of: scratch)
        guard digest == pointer.oid, bytes == pointer.size else { throw mismatch(pointer, digest: digest, bytes: bytes) }
        try store.insert(verified: scratch, for: pointer)
    }

    /// One streamed GET into `sink`, with retries for 429/5xx and for transport failures (each
    /// attempt starts the sink over).
    private func fetch(_ request: URLRequest, pointer: Pointer, progress: @escaping @Sendable (Int64) -> Void,
                       sink: FileSink, accept: @escaping @Sendable (HTTPURLResponse) -> Bool)
        async throws -> HTTPClient.Response
    {
        let host = request.url?.redactedForRedirect ?? "?"
        return try await retry.run("download of \(pointer.oid.prefix(12)) from \(host)", logger: logger) {
            sink.reset()
            let counter = ProgressCounter(progress)
            let response = try await http.stream(request, accept: accept, write: { try sink.write($0) },
                                                 progress: { counter.report(total: $0) })
            // The watchdog samples every 100 ms; a short download ends between two samples.
            counter.report(total: sink.written)
            return response
        }
    }

    private func storeEmptyObject(_ pointer: Pointer) throws {
        guard SHA256.hash(data: Data()).hexString == pointer.oid else {
            throw LFSError(.integrity, "the pointer for \(pointer.oid) says 0 bytes, which is not that object's size")
        }
        let scratch = try store.scratchFile("empty")
        _ = FileManager.default.createFile(atPath: scratch.path, contents: Data())
        try store.insert(verified: scratch, for: pointer)
    }

    private func statusError(_ response: HTTPClient.Response, _ pointer: Pointer) -> LFSError {
        let host = response.url.map { $0.redactedForRedirect } ?? "the storage server"
        switch response.status {
        case 401, 403: return LFSError(.authentication, "\(host) refused the download (HTTP \(response.status))")
        case 404, 410: return LFSError(.notFound, "\(host) does not have the object (HTTP \(response.status))")
        default: return LFSError(.server, "\(host) answered HTTP \(response.status)")
        }
    }

    private func mismatch(_ pointer: Pointer, digest: String, bytes: Int64) -> LFSError {
        LFSError(.integrity, "the content received for \(pointer.oid) does not match its pointer "
            + "(sha256 \(digest), \(bytes) bytes; expected \(pointer.size) bytes): discarded")
    }
}

/// Where a streamed body goes: `length` bytes at `offset` of an open file (and of a second one,
/// the work-tree copy, when given), hashed on the way when asked. Written on the session's delegate
/// queue, read by the downloader.
///
/// URLSession hands bodies over in libcurl's 16 KiB reads; the sink gathers them and writes
/// `bufferSize` bytes at a time. On Linux 6.x ext4 puts a large write into large page-cache folios:
/// 1 GiB written in 256 KiB calls costs about half the system time of the same in 16 KiB calls,
/// and every object is written twice. `finish` writes what is gathered; `close` drops it (the
/// downloader has stopped and keeps only a verified prefix) and makes every later write a no-op,
/// so a late chunk never lands in a file the downloader has moved on from.
final class FileSink: Sendable {
    static let bufferSize = 256 << 10

    private struct State: ~Copyable {
        var open = true
        /// Bytes received; those past `flushed` are in `buffer`.
        var written: Int64 = 0
        var flushed: Int64 = 0
        var hasher: SHA256?
        /// Mapped rather than malloc'ed, so that releasing it gives its pages back at once.
        var buffer: UnsafeMutableRawBufferPointer?
        /// A closed sink keeps no buffer: the downloader holds every sink of an object to the end,
        /// and keeping their buffers made a 1 GiB pull 50-60 MiB larger.
        mutating func release() {
            if let buffer { munmap(buffer.baseAddress, buffer.count) }
            buffer = nil
        }
        deinit { if let buffer { munmap(buffer.baseAddress, buffer.count) } }
    }
    private let state: Mutex<State>
    private let fd: Int32
    /// A second file that gets the same bytes at the same offsets (a work-tree copy).
    private let copy: Int32?
    private let name: String
    private let offset: Int64
    private let length: Int64
    private let hashing: Bool

    init(fd: Int32, copy: Int32? = nil, name: String, offset: Int64, length: Int64, hashing: Bool) {
        self.fd = fd
        self.copy = copy
        self.name = name
        self.offset = offset
        self.length = length
        self.hashing = hashing
        state = Mutex(State(hasher: hashing ? SHA256() : nil))
    }

    /// Starts over (a retried request): what was gathered is dropped, and the file is written
    /// from `offset` again.
    func reset() {
        state.withLock { s in
            s.written = 0
            s.flushed = 0
            s.hasher = hashing ? SHA256() : nil
        }
    }

    func write(_ data: Data) throws {
        try state.withLock { s in
            guard s.open else { return }
            guard s.written + Int64(data.count) <= length else {
                throw LFSError(.integrity, "the storage server sent more than the \(length) bytes asked for: discarded")
            }
            try data.withUnsafeBytes { bytes in
                s.hasher?.update(bufferPointer: bytes)
                let capacity = Int(min(Int64(Self.bufferSize), length))
                if Int(s.written - s.flushed) + bytes.count > capacity { try flush(&s) }
                if bytes.count >= capacity {
                    try write(bytes, at: s.flushed)
                    s.written += Int64(bytes.count)
                    s.flushed = s.written
                    return
                }
                if s.buffer == nil {
                    let mapped = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                    guard let mapped, mapped != MAP_FAILED else {
                        throw LFSError(.io, "cannot map a \(capacity)-byte write buffer: \(String(cString: strerror(errno)))")
                    }
                    s.buffer = UnsafeMutableRawBufferPointer(start: mapped, count: capacity)
                }
                s.buffer!.baseAddress!.advanced(by: Int(s.written - s.flushed))
                    .copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                s.written += Int64(bytes.count)
                if s.written - s.flushed == capacity { try flush(&s) }
            }
        }
    }

    /// Writes what is gathered and closes the sink. Call when the body has ended.
    func finish() throws {
        try state.withLock { s in
            guard s.open else { return }
            s.open = false
            defer { s.release() }
            try flush(&s)
        }
    }

    /// Closes the sink without writing what is gathered; later writes are no-ops.
    func close() {
        state.withLock { s in
            s.open = false
            s.release()
        }
    }

    private func flush(_ s: inout State) throws {
        let pending = Int(s.written - s.flushed)
        guard pending > 0, let buffer = s.buffer else { return }
        try write(UnsafeRawBufferPointer(rebasing: buffer[..<pending]), at: s.flushed)
        s.flushed = s.written
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws {
        let at = off_t(offset + position)
        try Self.write(bytes, to: fd, at: at, name: name)
        if let copy { try Self.write(bytes, to: copy, at: at, name: name + " (work-tree copy)") }
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: off_t, name: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, offset + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LFSError(.io, "cannot write \(name): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Bytes received so far (written, or gathered to be written by `finish`).
    var written: Int64 { state.withLock { $0.written } }

    /// Bytes received, and their SHA-256 when hashing (call after `finish`).
    var result: (written: Int64, digest: String?) {
        state.withLock { s in (s.written, s.hasher.map { $0.finalize().hexString }) }
    }
}

/// The work-tree copy written beside a download (see `ObjectDownloader.checkoutCopies`).
struct CheckoutCopy {
    let url: URL
    let fd: Int32

    /// Closes it and hands it to the caller (its object verified).
    func handOver() -> URL {
        close(fd)
        return url
    }

    func discard() {
        close(fd)
        unlink(url.path)
    }
}

/// The resume state of a segmented download: `<oid>.part` and, while segments may be written
/// beyond its verified prefix, `<oid>.part.length` with that prefix's length.
enum PartialFile {
    static func lengthFile(_ partial: URL) -> URL { URL(fileURLWithPath: partial.path + ".length") }

    /// Where a download of `partial` continues: the recorded length if there is one (what lies
    /// beyond it may have holes), else the file's size (a file cut to its prefix).
    static func prefix(_ partial: URL, size: Int64) -> Int64 {
        guard let actual = fileSize(partial) else { return 0 }
        var have = actual
        if let text = try? String(contentsOf: lengthFile(partial), encoding: .utf8) {
            have = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return have <= min(actual, size) && have >= 0 ? have : 0
    }

    /// Records the prefix length: written to a new file and renamed over the old one.
    static func record(_ length: Int64, for partial: URL) throws {
        let file = lengthFile(partial)
        let scratch = file.path + ".new"
        let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(scratch): \(String(cString: strerror(errno)))") }
        let text = Array("\(length)\n".utf8)
        let n = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == text.count, rename(scratch, file.path) == 0 else {
            throw LFSError(.io, "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    static func forgetLength(_ partial: URL) {
        unlink(lengthFile(partial).path)
    }

    static func remove(_ partial: URL) {
        unlink(partial.path)
        forgetLength(partial)
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

/// Turns cumulative byte counts of one request into deltas (a retried request starts again at 0).
final class ProgressCounter: @unchecked Sendable {
    // @unchecked Sendable: `last` is guarded by `lock`.
    private let lock = NSLock()
    private var last: Int64 = 0
    private let sink: @Sendable (Int64) -> Void

    init(_ sink: @escaping @Sendable (Int64) -> Void) { self.sink = sink }

    func report(total: Int64) {
        lock.lock()
        let delta = total - last
        if delta > 0 { last = total }
        lock.unlock()
        if delta > 0 { sink(delta) }
    }
}

/// An exclusive `flock` on an object's partial file, so two processes never write one download.
struct PartialLock {
    let fd: Int32

    /// Waits for the lock, polling, and gives up waiting early when `done()` says the other
    /// process finished the object. The descriptor is closed on every way out but success,
    /// cancellation while waiting included.
    static func acquire(_ path: URL, until done: () -> Bool) async throws -> PartialLock {
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot open \(path.path): \(String(cString: strerror(errno)))") }
        do {
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR else {
                    throw LFSError(.io, "cannot lock \(path.path): \(String(cString: strerror(errno)))")
                }
                if done() { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            close(fd)
            throw error
        }
        return PartialLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
