import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Logging

/// An object to upload and where its bytes are.
public struct UploadItem: Sendable {
    /// The object to upload.
    public var pointer: Pointer
    /// The content (an object in the store, or the user's file); nil when only the server may have it.
    public var source: URL?
    /// The path that holds it, for messages and events.
    public var path: String
    /// The commit that introduced it, for messages; nil when there is none (a folder upload before its
    /// commit).
    public var commit: String?

    /// An item of `pointer`, read from `source` when the server asks for it.
    public init(pointer: Pointer, source: URL?, path: String, commit: String? = nil) {
        self.pointer = pointer
        self.source = source
        self.path = path
        self.commit = commit
    }
}

/// What an upload sent, and what the server had already.
public struct UploadReport: Sendable, Equatable {
    /// Objects uploaded.
    public var uploaded = 0
    /// The sizes of those objects, added up.
    public var uploadedBytes: Int64 = 0
    /// Objects the server already had (no actions in its answer).
    public var alreadyOnServer = 0
    /// Nothing sent yet.
    public init() {}
}

/// Uploads LFS objects as git-lfs's pre-push does: batch `upload`; PUT each object the server asks
/// for to its href with its headers only; POST to `verify` when the server asks; nothing for objects
/// the server has. Everything or nothing: any failure throws, so the caller can refuse to push refs.
public struct Uploader: Sendable {
    let batch: BatchClient
    let http: HTTPClient
    let endpoint: URL
    let scope: CredentialScope?
    /// Uploads at once; nil: sized to the round trip, as downloads are (`InFlight.transfers`).
    let jobs: Int?
    let retry: RetryPolicy
    let logger: Logger

    /// An uploader to the LFS endpoint (`.../repo.git/info/lfs`). `scope` goes to the endpoint's origin
    /// only, never to storage hosts; `jobs` (nil: sized to the round trip) bounds the uploads at once.
    public init(endpoint: URL, scope: CredentialScope?, http: HTTPClient, jobs: Int? = nil, logger: Logger) {
        batch = BatchClient(endpoint: endpoint, scope: scope, http: http, logger: logger)
        self.http = http
        self.endpoint = endpoint
        self.scope = scope
        self.jobs = jobs.map { max(1, $0) }
        retry = RetryPolicy()
        self.logger = logger
    }

    /// `events`, when given, hears of every path of `items`: queued, bytes, done (or skipped when
    /// the server has the object, failed when it refused it).
    public func upload(_ items: [UploadItem], ref: String? = nil, progress: (@Sendable (LFSProgress) -> Void)? = nil,
                       events: LFSEvents? = nil) async throws -> UploadReport {
        let tracker = TransferMeter(.upload, paths: Dictionary(grouping: items, by: \.pointer.oid).mapValues { $0.map(\.path) },
                                    events: events, progress: progress)
        var unique: [String: UploadItem] = [:]
        for item in items where unique[item.pointer.oid] == nil || unique[item.pointer.oid]?.source == nil {
            unique[item.pointer.oid] = item
        }
        let ordered = unique.values.sorted { $0.pointer.oid < $1.pointer.oid }
        guard !ordered.isEmpty else { return UploadReport() }
        var report = UploadReport()
        // One failed upload does not cancel the others: FoundationNetworking could crash the
        // process when an upload task was cancelled while its file body was being read
        // (Vendor-notes.md), and a half-sent PUT is worth nothing anyway. The first failure is
        // thrown once the requests under way have ended, and nothing new starts after it.
        var failure: (any Error)?
        enum Done: Sendable {
            case batch([UploadItem], Result<[BatchObject], any Error>)
            case object(UploadItem, Result<Int64, any Error>)
        }
        await withTaskGroup(of: Done.self) { group in
            // Batch requests are pipelined with the uploads, as downloads do: the next batch is
            // asked for while the objects of the last one go up.
            let size = batch.batchSize
            let chunks = stride(from: 0, to: ordered.count, by: size).map { Array(ordered[$0..<min($0 + size, ordered.count)]) }
            var queue: [(UploadItem, BatchObject)] = []
            var head = 0, nextChunk = 0, batchesInFlight = 0, running = 0
            var storage: Origin?
            var limit = jobs ?? 1
            func askForMore() {
                while failure == nil, batchesInFlight < 2, nextChunk < chunks.count,
                      queue.count - head + batchesInFlight * size < max(size, 2 * limit) {
                    let chunk = chunks[nextChunk]
                    nextChunk += 1
                    batchesInFlight += 1
                    group.addTask { [batch] in
                        do {
                            return .batch(chunk, .success(try await batch.batch(.upload, chunk.map(\.pointer), ref: ref)))
                        } catch {
                            return .batch(chunk, .failure(error))
                        }
                    }
                }
            }
            func startMore() {
                let waiting = queue.count - head + ordered.count - min(ordered.count, nextChunk * size)
                let roundTrip = storage.flatMap(http.roundTrips.estimate(for:))
                let before = limit
                limit = jobs ?? InFlight.transfers(roundTrip: roundTrip, remaining: waiting + running)
                if limit > before, head < queue.count {
                    let ms = roundTrip.map { String(format: "%.1f ms", $0.timeInterval * 1000) } ?? "unknown"
                    logger.debug("LFS: round trip to \(storage?.description ?? "storage") \(ms): \(limit) uploads at once")
                }
                if jobs == nil, let storage { http.allowConnections(limit, to: storage) }
                while running < limit, failure == nil, head < queue.count {
                    let (item, answer) = queue[head]
                    head += 1
                    running += 1
                    group.addTask { [self] in
                        do {
                            try await transfer(item, answer, tracker: tracker)
                            tracker.objectDone(item.pointer)
                            return .object(item, .success(item.pointer.size))
                        } catch {
                            tracker.objectFailed(item.pointer, reason: (error as? LFSError)?.message ?? "\(error)")
                            return .object(item, .failure(error))
                        }
                    }
                }
            }
            askForMore()
            while let done = await group.next() {
                switch done {
                case .batch(let chunk, .success(let answers)):
                    batchesInFlight -= 1
                    for (item, answer) in zip(chunk, answers) where failure == nil {
                        do {
                            guard let source = try accept(item, answer) else {
                                report.alreadyOnServer += 1
                                tracker.skipped(item.pointer)
                                continue
                            }
                            try await Self.checkLinked(item, source: source)
                            tracker.begin([item.pointer])
                            storage = storage ?? answer.origin(of: "upload")
                            queue.append((item, answer))
                        } catch {
                            tracker.objectFailed(item.pointer, reason: (error as? LFSError)?.message ?? "\(error)")
                            failure = error
                        }
                    }
                case .batch(_, .failure(let error)):
                    batchesInFlight -= 1
                    if failure == nil { failure = error }
                case .object(_, let outcome):
                    running -= 1
                    switch outcome {
                    case .success(let bytes):
                        report.uploaded += 1
                        report.uploadedBytes = report.uploadedBytes.saturatingAdd(bytes)
                    case .failure(let error):
                        if failure == nil { failure = error }
                    }
                }
                startMore()
                askForMore()
            }
        }
        if let failure { throw failure }
        logger.info("LFS: uploaded \(report.uploaded) objects, \(report.alreadyOnServer) already on the server")
        return report
    }

    /// The file to upload for `item`, as the batch answer asks; nil when the server has the object
    /// (no upload action). Throws when the server refused it, or when the object is neither here
    /// nor there, or the file no longer has its size.
    private func accept(_ item: UploadItem, _ answer: BatchObject) throws -> URL? {
        if let error = answer.error {
            throw LFSError(.server, "\(item.path): the LFS server refused the upload of \(item.pointer.oid.prefix(12)) "
                + "(\(Fetcher.describe(error)))")
        }
        guard answer.actions?["upload"] != nil else { return nil }
        guard let source = item.source else {
            throw LFSError(.integrity, "\(item.path)\(item.commit.map { " (commit \($0.prefix(12)))" } ?? ""): the LFS "
                + "object \(item.pointer.oid) is neither here nor on the server; nothing was pushed")
        }
        guard fileSize(source) == item.pointer.size else {
            throw LFSError(.integrity, "\(item.path): the file changed since it was hashed; nothing was pushed")
        }
        return source
    }

    /// A stored object with more than one name (a protected link into a work tree, a shared store)
    /// could have been written through another name: it is hashed again before it is published. An
    /// object with one name was verified when it entered the store.
    static func checkLinked(_ item: UploadItem, source: URL) async throws {
        var st = stat()
        guard stat(source.path, &st) == 0, st.st_nlink > 1 else { return }
        let pointer = item.pointer
        guard try await BlockingWork.run({ try pointer.matchesContent(of: source) }) else {
            throw LFSError(.integrity, "\(item.path): the stored LFS object \(pointer.oid.prefix(12)) no longer matches "
                + "its oid (written through a linked work-tree file?); nothing was pushed")
        }
    }

    private func transfer(_ item: UploadItem, _ answer: BatchObject, tracker: TransferMeter) async throws {
        var answer = answer
        if answer.action("upload") == nil {  // expired while others went first
            answer = try await batch.batch(.upload, [item.pointer]).first ?? answer
        }
        guard let upload = answer.action("upload", margin: 0), let source = item.source else {
            throw LFSError(.server, "\(item.path): the LFS server gave no usable upload action")
        }

        var request = try ActionRequest.make(upload, method: "PUT", endpoint: endpoint, scope: scope)
        if request.value(forHTTPHeaderField: "Content-Type") == nil {
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        request.setValue(String(item.pointer.size), forHTTPHeaderField: "Content-Length")
        let host = request.url?.redactedForRedirect ?? "?"
        let response = try await retry.exchange("upload of \(item.path) to \(host)", logger: logger) {
            let counter = ProgressCounter { tracker.bytes(item.pointer, $0) }
            let response = try await http.upload(request, fromFile: source) { counter.report(total: $0) }
            counter.report(total: item.pointer.size)
            return response
        }
        switch StatusMeaning(response.status) {
        case .success: break
        case .refused: throw LFSError(.authentication, "\(item.path): \(host) refused the upload (HTTP \(response.status))")
        default: throw LFSError(.server, "\(item.path): \(host) did not take the upload (HTTP \(response.status))")
        }
        if let verify = answer.action("verify", margin: 0) {
            var request = try ActionRequest.make(verify, method: "POST", endpoint: endpoint, scope: scope)
            request.setValue("application/vnd.git-lfs+json", forHTTPHeaderField: "Accept")
            request.setValue("application/vnd.git-lfs+json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data("{\"oid\":\"\(item.pointer.oid)\",\"size\":\(item.pointer.size)}".utf8)
            let checked = try await retry.exchange("verify of \(item.path)", logger: logger) { try await http.send(request) }
            guard StatusMeaning(checked.status) == .success else {
                throw LFSError(.integrity, "\(item.path): the LFS server did not verify the upload (HTTP \(checked.status)"
                    + "\(BatchClient.serverMessage(checked)))")
            }
        }
    }
}
