import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Logging
import PathSafety

/// Downloads one object from its `download` action into the store, verified.
///
/// - Bodies are streamed (`HTTPClient.stream`) straight into our own files: no temporary file of
///   Foundation's, no second copy.
/// - Objects up to `wholeLimit` come in one GET into a scratch file, hashed as they arrive, and
///   enter the store by a rename.
/// - Larger objects come in `Range` segments (an eighth of the object, at least `minimumSegment`
///   and at most `maximumSegment` bytes), as many in flight as the connections' rate and round
///   trip call for (`InFlight.segments`), each written at its own offset of `incomplete/<oid>.part`. The
///   segments are hashed in order as the contiguous prefix grows, and the prefix's length is kept
///   in `incomplete/<oid>.part.length`, so a killed run leaves a prefix the next run continues
///   from (hashing it again; whatever lies beyond it is cut off). A run that stops without being
///   killed (an error, a cancel) cuts the file to its prefix itself and drops the length file.
///   A server that ignores `Range` (200) gives the whole object, through a download task; a 416
///   starts over.
/// - Either way the object enters the store only if its SHA-256 and size match the pointer;
///   otherwise the partial file is removed and the error names the object.
/// - With `makesCopies`, a download that starts from nothing also writes every chunk, in the
///   same call and at the same offset, to a second file there (`DownloadCopy`), made while the bytes
///   are still in the CPU's cache instead of read back from memory afterwards (on this class of
///   machine that read-back copy cost as much as the download). The caller decides what it is for
///   (the LFS pass of a clone moves it into the work tree); it is handed over only when the object
///   it mirrors verified, and removed otherwise.
/// - One process at a time works on an object: the partial file is `flock`ed.
struct ObjectDownloader: Sendable {
    let store: ObjectStore
    let http: HTTPClient
    /// The LFS endpoint (an https endpoint's hrefs must be https too).
    let endpoint: URL
    /// The endpoint's credential; `CredentialScope` decides which hrefs it goes to.
    let scope: CredentialScope?
    /// The largest segment; objects up to `wholeLimit` are not segmented.
    let maximumSegment: Int64
    let retry: RetryPolicy
    let space: SpaceGuard
    /// Whether to write a second copy of each fresh download, in the store's `tmp/` (see
    /// `DownloadCopy`).
    var makesCopies = false
    /// Every download takes the object's lock, not only resumable ones: for a store several
    /// processes fill at once, where no object may be downloaded twice.
    var exclusive = false
    /// The bytes of the streamed bodies asked for and not yet written, for all the objects of this
    /// downloader at once (`InFlight.streamMemory`). A GET takes its length before it starts and
    /// gives it back when it ends. It grows as the round trip shows (`followDistance`: more bytes
    /// must be on the wire the farther the host). Since downloads stream with back-pressure
    /// (`HTTPClient.stream`), these bytes wait on the wire and in the sockets' buffers, not in this
    /// process: the budget keeps requests from running ahead of the disk, and memory no longer
    /// depends on it. (Through FoundationNetworking they waited in memory, and this was what
    /// bounded it.)
    var memory: AsyncLimiter
    /// Whether `memory` grows with the round trip (`followDistance`): when the number of downloads
    /// is not fixed. The fetcher grows it with each batch answer, and the segments of a large
    /// object as they complete, up to one object's segments (`InFlight.segmentMemory`): a lone
    /// large object gets no batch answer after its first segments, and stayed at the near host's
    /// budget, six segments of 4 MiB, however far the host (1 GiB at 200 ms and 40 MB/s per
    /// connection took 13.3 s; with its ten, 9.2 s).
    var memoryFollowsDistance = false

    init(store: ObjectStore, http: HTTPClient, endpoint: URL, scope: CredentialScope?, maximumSegment: Int64,
         retry: RetryPolicy, space: SpaceGuard, logger: Logger,
         memory: AsyncLimiter = AsyncLimiter(Int(InFlight.streamMemory(roundTrip: nil)))) {
        self.store = store
        self.http = http
        self.endpoint = endpoint
        self.scope = scope
        self.maximumSegment = maximumSegment
        self.retry = retry
        self.space = space
        self.logger = logger
        self.memory = memory
    }

    /// Raises `memory` to what `roundTrip` to the storage host calls for (`InFlight.streamMemory`),
    /// at most `cap`, when it follows the distance (`memoryFollowsDistance`).
    func followDistance(_ roundTrip: Duration?, cap: Int64 = .max) {
        guard memoryFollowsDistance else { return }
        memory.raise(to: Int(min(cap, InFlight.streamMemory(roundTrip: roundTrip))))
    }
    /// The client for the segments of large objects (default: `http`). A session of their own:
    /// a session hands every answer's headers and chunks to one serial delegate queue, and there
    /// the answers of small objects would wait behind megabytes of segments, which `http`'s
    /// round-trip estimate would take for distance (55-190 ms measured on loopback).
    var bulk: HTTPClient?
    static let minimumSegment: Int64 = 4 << 20
    static let wholeLimit: Int64 = 8 << 20

    func segmentSize(for size: Int64) -> Int64 {
        min(max(size / 8, Self.minimumSegment), max(maximumSegment, Self.minimumSegment))
    }
    let logger: Logger

    /// Downloads `pointer`. `progress` receives byte counts as they arrive (deltas). Returns the
    /// verified second copy when one was made (`makesCopies`); the caller owns it.
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
        // Small objects come whole into a scratch file of their own and enter the store by an atomic
        // rename: two processes at once cost a download, never the object. Only a partial file
        // needs a lock, unless the store is shared: there every object is downloaded once, by
        // whichever process takes its lock first; the others wait and find it stored.
        if !exclusive && pointer.size <= Self.wholeLimit && fileSize(store.partialPath(for: pointer.oid)) == nil {
            return try await downloadWhole(pointer, request: request, progress: progress)
        }
        let partial = try PartialFile(pointer.oid, in: store)
        let lock = try await PartialLock.acquire(partial, until: { store.contains(pointer) })
        defer { lock.release() }
        if store.contains(pointer) {
            if partial.size == 0 { partial.remove() }  // the empty lock file of a waiter
            return nil
        }
        let have = partial.prefix(size: pointer.size)
        if have == 0 && pointer.size <= Self.wholeLimit {
            defer { partial.remove() }
            return try await downloadWhole(pointer, request: request, progress: progress)
        }
        return try await downloadSegments(pointer, request: request, partial: partial, have: have, progress: progress)
    }

    /// The second copy of a download starting from nothing, open for writing, or nil.
    func openCopy(_ pointer: Pointer) throws -> DownloadCopy? {
        guard makesCopies else { return nil }
        return try DownloadCopy.create(in: store, for: pointer)
    }

    /// The GET for an action (see `ActionRequest`).
    func makeRequest(_ action: BatchObject.Action) throws -> URLRequest {
        try ActionRequest.make(action, method: "GET", endpoint: endpoint, scope: scope)
    }

    /// One GET of the whole object into a scratch file, hashed as it arrives, renamed into the store.
    private func downloadWhole(_ pointer: Pointer, request: URLRequest, progress: @escaping @Sendable (Int64) -> Void)
        async throws -> URL?
    {
        let (scratch, fd) = try store.createScratch(pointer.oid)
        var closed = false
        defer {
            if !closed { close(fd) }
            scratch.directory.discard(scratch.name)
        }
        let copy = try openCopy(pointer)
        var handedOver = false
        defer { if !handedOver { copy?.discard() } }
        let room = try space.reserve(pointer.size.saturatingMultiply(copy == nil ? 1 : 2), on: scratch.url,
                                     purpose: "storing \(pointer.oid.prefix(12))")
        defer { withExtendedLifetime(room) {} }
        let sink = FileSink(fd: fd, copy: copy?.fd, name: scratch.url.path, offset: 0, length: pointer.size, hashing: true)
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
        try store.insert(scratch.name, in: scratch.directory, for: pointer)
        handedOver = true
        return copy?.handOver()
    }

    /// A large object from a server that ignores `Range`: a download task, whose temporary file
    /// keeps memory bounded however far the disk lags (a stream of the whole object would not).
    func downloadWholeThroughFile(_ pointer: Pointer, request: URLRequest,
                                          progress: @escaping @Sendable (Int64) -> Void) async throws {
        let (scratchFile, fd) = try store.createScratch(pointer.oid)
        close(fd)
        let scratch = scratchFile.url
        defer { scratchFile.directory.discard(scratchFile.name) }
        let host = request.url?.redactedForRedirect ?? "?"
        let reservation = try space.reserve(pointer.size, on: SpaceGuard.foundationTemporaryDirectory,
                                            purpose: "downloading \(pointer.oid.prefix(12)) (set TMPDIR elsewhere)")
        defer { withExtendedLifetime(reservation) {} }
        let response = try await retry.exchange("download of \(pointer.oid.prefix(12)) from \(host)", logger: logger) {
            let counter = ProgressCounter(progress)
            let response = try await (bulk ?? http).download(request, to: scratch) { counter.report(total: $0) }
            counter.report(total: fileSize(scratch) ?? 0)
            return response
        }
        guard response.status == 200 else { throw statusError(response, pointer) }
        let (digest, bytes) = try await BlockingWork.run { try ObjectStore.digest(of: scratch) }
        guard digest == pointer.oid, bytes == pointer.size else { throw mismatch(pointer, digest: digest, bytes: bytes) }
        try store.insert(scratchFile.name, in: scratchFile.directory, for: pointer)
    }

    /// One streamed GET into `sink`, with retries for 429/5xx and for transport failures (each
    /// attempt starts the sink over).
    func fetch(_ request: URLRequest, pointer: Pointer, through client: HTTPClient? = nil,
               progress: @escaping @Sendable (Int64) -> Void,
                       sink: FileSink, accept: @escaping @Sendable (HTTPURLResponse) -> Bool)
        async throws -> HTTPClient.Response
    {
        let host = request.url?.redactedForRedirect ?? "?"
        let taken = try await memory.acquire(Int(sink.length))
        defer { memory.release(taken) }
        return try await retry.exchange("download of \(pointer.oid.prefix(12)) from \(host)", logger: logger) {
            sink.reset()
            let counter = ProgressCounter(progress)
            let response = try await (client ?? http).stream(request, accept: accept, write: { try sink.write($0) },
                                                 progress: { counter.report(total: $0) })
            // The watchdog samples four times a second; a short download ends between two samples.
            counter.report(total: sink.written)
            return response
        }
    }

    private func storeEmptyObject(_ pointer: Pointer) throws {
        guard SHA256.hash(data: Data()).hexString == pointer.oid else {
            throw LFSError(.integrity, "the pointer for \(pointer.oid) says 0 bytes, which is not that object's size")
        }
        let (scratch, fd) = try store.createScratch("empty")
        close(fd)
        try store.insert(scratch.name, in: scratch.directory, for: pointer)
    }

    func statusError(_ response: HTTPClient.Response, _ pointer: Pointer) -> LFSError {
        let host = response.url.map { $0.redactedForRedirect } ?? "the storage server"
        switch StatusMeaning(response.status) {
        case .refused: return LFSError(.authentication, "\(host) refused the download (HTTP \(response.status))")
        case .notFound, .gone: return LFSError(.notFound, "\(host) does not have the object (HTTP \(response.status))")
        default: return LFSError(.server, "\(host) answered HTTP \(response.status)")
        }
    }

    func mismatch(_ pointer: Pointer, digest: String, bytes: Int64) -> LFSError {
        LFSError(.integrity, "the content received for \(pointer.oid) does not match its pointer "
            + "(sha256 \(digest), \(bytes) bytes; expected \(pointer.size) bytes): discarded")
    }
}
