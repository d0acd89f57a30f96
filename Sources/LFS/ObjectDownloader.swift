import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// Downloads one object from its `download` action into the store, verified.
///
/// - Objects up to `wholeLimit` come in one GET; Foundation writes them to a scratch file, which
///   is hashed and renamed into the store.
/// - Larger objects come in `Range` segments (about eight, of `minimumSegment` to `maximumSegment`
///   bytes), four in flight, appended in order to `incomplete/<oid>.part` while hashing, so a killed
///   run leaves a prefix that the next run continues from (after hashing it again). A server that
///   ignores `Range` (200) gives the whole object; a 416 starts over.
/// - Either way the object enters the store only if its SHA-256 and size match the pointer;
///   otherwise the partial file is removed and the error names the object.
/// - One process at a time works on an object: the partial file is `flock`ed.
struct ObjectDownloader: Sendable {
    let store: ObjectStore
    let http: HTTPClient
    /// The LFS endpoint; hrefs on its origin may get `hubAuthorization`, others never do.
    let endpoint: URL
    let hubAuthorization: String?
    /// The largest segment; objects up to `wholeLimit` are not segmented.
    let maximumSegment: Int64
    let retry: RetryPolicy
    let space: SpaceGuard
    static let minimumSegment: Int64 = 4 << 20
    static let wholeLimit: Int64 = 8 << 20

    func segmentSize(for size: Int64) -> Int64 {
        min(max(size / 8, Self.minimumSegment), max(maximumSegment, Self.minimumSegment))
    }
    let logger: Logger

    /// Downloads `pointer`. `progress` receives byte counts as they arrive (deltas).
    func download(_ pointer: Pointer, action: BatchObject.Action, progress: @escaping @Sendable (Int64) -> Void)
        async throws
    {
        if store.contains(pointer) { return }
        if pointer.size == 0 {
            try storeEmptyObject(pointer)
            return
        }
        let request = try makeRequest(action)
        let partial = store.partialPath(for: pointer.oid)
        // Small objects come whole into a scratch file of their own and enter the store by an atomic
        // rename: two processes at once cost a download, never the object. Only a partial file
        // needs a lock.
        if pointer.size <= Self.wholeLimit && fileSize(partial) == nil {
            try await downloadWhole(pointer, request: request, progress: progress)
            return
        }
        try Directories.ensure(store.incompleteDirectory)
        let lock = try await PartialLock.acquire(partial, until: { store.contains(pointer) })
        defer { lock.release() }
        if store.contains(pointer) { return }
        var have = fileSize(partial) ?? 0
        if have > pointer.size {
            truncate(partial.path, 0)
            have = 0
        }
        if have == 0 && pointer.size <= Self.wholeLimit {
            try await downloadWhole(pointer, request: request, progress: progress)
            unlink(partial.path)
        } else {
            try await downloadSegments(pointer, request: request, partial: partial, have: have, progress: progress)
        }
    }

    /// The GET for an action: its href and headers; the hub's Authorization only on the hub's origin
    /// and only if the action brings none; never http when the endpoint is https.
    func makeRequest(_ action: BatchObject.Action) throws -> URLRequest {
        try Uploader.request(for: action, method: "GET", endpoint: endpoint, hubAuthorization: hubAuthorization)
    }

    private func downloadWhole(_ pointer: Pointer, request: URLRequest, progress: @escaping @Sendable (Int64) -> Void)
        async throws
    {
        let scratch = try store.scratchFile(pointer.oid)
        defer { unlink(scratch.path) }
        let response = try await fetch(request, to: scratch, pointer: pointer, progress: progress)
        guard response.status == 200 else { throw statusError(response, pointer) }
        guard try ObjectStore.verify(scratch, against: pointer) else {
            throw mismatch(pointer, file: scratch, url: request.url)
        }
        try store.insert(verified: scratch, for: pointer)
    }

    /// Segments `window` at a time (several connections fill the pipe), appended strictly in order,
    /// so the partial file is always a prefix of the object, and hashed as they are appended.
    private func downloadSegments(_ pointer: Pointer, request: URLRequest, partial: URL, have start: Int64,
                                  progress: @escaping @Sendable (Int64) -> Void) async throws
    {
        var hasher = SHA256()
        if start > 0 {
            logger.debug("resuming \(pointer.oid.prefix(12)) at \(start) of \(pointer.size) bytes")
            try ObjectStore.read(partial) { hasher.update(bufferPointer: $0) }
        }
        let size = segmentSize(for: pointer.size)
        let ranges = stride(from: start, to: pointer.size, by: Int(size)).map { ($0, min($0 + size, pointer.size) - 1) }
        var have = start
        let outcome: SegmentsOutcome = try await withThrowingTaskGroup(of: Segment.self) { group in
            var next = 0
            var appended = 0
            var arrived: [Int: Segment] = [:]
            defer { for segment in arrived.values { try? FileManager.default.removeItem(at: segment.file) } }
            func launch() throws {
                guard next < ranges.count, next - appended < Self.window else { return }
                let (index, (from, to)) = (next, ranges[next])
                next += 1
                var segment = request
                segment.setValue("bytes=\(from)-\(to)", forHTTPHeaderField: "Range")
                let scratch = try store.scratchFile(pointer.oid)
                group.addTask { [self] in
                    do {
                        let response = try await fetch(segment, to: scratch, pointer: pointer, progress: progress)
                        return Segment(index: index, file: scratch, response: response)
                    } catch {
                        try? FileManager.default.removeItem(at: scratch)
                        throw error
                    }
                }
            }
            for _ in 0..<Self.window { try launch() }
            while let segment = try await group.next() {
                arrived[segment.index] = segment
                while let ready = arrived.removeValue(forKey: appended) {
                    defer { try? FileManager.default.removeItem(at: ready.file) }
                    switch ready.response.status {
                    case 206:
                        let expected = ranges[ready.index]
                        guard let range = ContentRange(ready.response.header("Content-Range")), range.start == expected.0,
                              range.end == expected.1, range.total == nil || range.total == pointer.size,
                              fileSize(ready.file) == range.end - range.start + 1 else {
                            throw LFSError(.protocolError, "the storage server answered a Range request for \(pointer.oid.prefix(12)) "
                                + "with a range that does not fit (\(ready.response.header("Content-Range") ?? "none"))")
                        }
                        let room = try space.reserve(expected.1 - expected.0 + 1, on: partial,
                                                     purpose: "storing \(pointer.oid.prefix(12))")
                        try append(ready.file, to: partial, hashing: &hasher)
                        withExtendedLifetime(room) {}
                        have = expected.1 + 1
                        appended += 1
                    case 200:
                        // Range ignored: this is the whole object.
                        group.cancelAll()
                        return .whole(ready.file)
                    case 416:
                        group.cancelAll()
                        return .restart
                    default:
                        throw statusError(ready.response, pointer)
                    }
                }
                try launch()
            }
            return .appended
        }
        switch outcome {
        case .whole(let file):
            defer { try? FileManager.default.removeItem(at: file) }
            guard try ObjectStore.verify(file, against: pointer) else {
                try? FileManager.default.removeItem(at: partial)
                throw mismatch(pointer, file: file, url: request.url)
            }
            try store.insert(verified: file, for: pointer)
            try? FileManager.default.removeItem(at: partial)
            return
        case .restart:
            guard start > 0 else { throw LFSError(.server, "the storage server refused every range of \(pointer.oid.prefix(12))") }
            logger.info("the storage server refused the range for \(pointer.oid.prefix(12)); starting over")
            truncate(partial.path, 0)
            return try await downloadSegments(pointer, request: request, partial: partial, have: 0, progress: progress)
        case .appended:
            break
        }
        let digest = hasher.finalize().hexString
        guard digest == pointer.oid, fileSize(partial) == pointer.size else {
            try? FileManager.default.removeItem(at: partial)
            throw LFSError(.integrity, "the content received for \(pointer.oid) does not match its pointer "
                + "(sha256 \(digest), \(have) bytes; expected \(pointer.size) bytes): discarded")
        }
        try store.insert(verified: partial, for: pointer)
    }

    /// Segment requests of one object in flight at once.
    static let window = 4

    private struct Segment: Sendable {
        var index: Int
        var file: URL
        var response: HTTPClient.Response
    }

    private enum SegmentsOutcome {
        case appended
        case whole(URL)
        case restart
    }

    /// One GET into `file`, with retries for 429/5xx and for transport failures.
    private func fetch(_ request: URLRequest, to file: URL, pointer: Pointer,
                       progress: @escaping @Sendable (Int64) -> Void) async throws -> HTTPClient.Response {
        let host = request.url?.redactedForRedirect ?? "?"
        // At most the object's remaining size lands in Foundation's temporary file.
        let expected = request.value(forHTTPHeaderField: "Range").flatMap(Self.rangeLength) ?? pointer.size
        let reservation = try space.reserve(expected, on: SpaceGuard.foundationTemporaryDirectory,
                                            purpose: "downloading \(pointer.oid.prefix(12)) (set TMPDIR elsewhere)")
        defer { withExtendedLifetime(reservation) {} }
        return try await retry.run("download of \(pointer.oid.prefix(12)) from \(host)", logger: logger) {
            let counter = ProgressCounter(progress)
            let response = try await http.download(request, to: file) { counter.report(total: $0) }
            // The watchdog samples every 100 ms; a short download ends between two samples.
            counter.report(total: fileSize(file) ?? 0)
            return response
        }
    }

    /// The length of a "bytes=a-b" range.
    static func rangeLength(_ header: String) -> Int64? {
        let bounds = header.dropFirst("bytes=".count).split(separator: "-")
        guard bounds.count == 2, let a = Int64(bounds[0]), let b = Int64(bounds[1]) else { return nil }
        return b - a + 1
    }

    /// Appends `file` to `partial`, hashing it on the way: the bytes are hashed through a read-only
    /// mapping and copied in the kernel, so they cross into user space once, not twice.
    private func append(_ file: URL, to partial: URL, hashing hasher: inout SHA256) throws {
        let input = Foundation.open(file.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw LFSError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var st = stat()
        guard fstat(input, &st) == 0 else { throw LFSError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))") }
        let count = Int(st.st_size)
        // Mapped pages count as resident memory: map 8 MiB at a time, not the whole segment.
        let window = 8 << 20
        var offset = 0
        while offset < count {
            let length = min(window, count - offset)
            guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, input, off_t(offset)), mapped != MAP_FAILED else {
                throw LFSError(.io, "cannot map \(file.path): \(String(cString: strerror(errno)))")
            }
            madvise(mapped, length, MADV_SEQUENTIAL)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: mapped, count: length))
            munmap(mapped, length)
            offset += length
        }
        let output = Foundation.open(partial.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw LFSError(.io, "cannot write \(partial.path): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        guard fstat(output, &st) == 0 else { throw LFSError(.io, "cannot write \(partial.path): \(String(cString: strerror(errno)))") }
        try copyRange(from: input, to: output, count: Int64(count), at: Int64(st.st_size), name: partial.path)
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

    private func mismatch(_ pointer: Pointer, file: URL, url: URL?) -> LFSError {
        var hasher = SHA256()
        try? ObjectStore.read(file) { hasher.update(bufferPointer: $0) }
        return LFSError(.integrity, "the content received for \(pointer.oid) does not match its pointer "
            + "(sha256 \(hasher.finalize().hexString), \(fileSize(file) ?? 0) bytes; expected \(pointer.size) bytes): discarded")
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
    /// process finished the object.
    static func acquire(_ path: URL, until done: () -> Bool) async throws -> PartialLock {
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot open \(path.path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw LFSError(.io, "cannot lock \(path.path): \(String(cString: strerror(errno)))")
            }
            if done() { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return PartialLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
