import Foundation
import HTTP
import Logging

/// What a fetch did: objects downloaded (and their bytes), objects already in the store, and the
/// objects that could not be had, with the reason.
public struct FetchReport: Sendable {
    /// Objects downloaded from the server by this fetch.
    public var downloaded = 0
    /// The sizes of those objects, added up (a resumed download counts its whole object).
    public var downloadedBytes: Int64 = 0
    /// Objects the repository's store held already: not asked for.
    public var alreadyPresent = 0
    /// Objects linked from the shared store (`Fetcher.Options.sharedStore`) without a download.
    public var fromSharedStore = 0
    /// oid -> reason.
    public var failures: [String: String] = [:]
    /// An empty report.
    public init() {}
}

/// Downloads LFS objects into a store: batch requests of up to 100 objects, then at most `jobs`
/// downloads at a time; objects already in the store are never asked for.
public struct Fetcher: Sendable {
    /// How a fetch downloads: concurrency, segments, retries, copies and a shared store.
    public struct Options: Sendable {
        /// Downloads at once; nil: sized to the round trip to the storage host as the answers
        /// show it, from 8 to 64 (`InFlight.transfers`).
        public var jobs: Int?
        /// The largest `Range` segment of a resumable download (objects over 8 MiB are segmented).
        /// Up to `InFlight.segmentMemory` bytes of segments are in flight per object.
        public var segmentSize: Int64 = 4 << 20
        /// How failed requests are tried again: 5 attempts, from 250 ms apart up to 30 s, by default.
        public var retry = RetryPolicy()
        /// Write a second copy of each fresh download, as it arrives, into the store's `tmp/` (see
        /// `objectDone`), for a caller that moves it within the store's file system.
        public var makesCopies = false
        /// A store shared by many repositories: objects it has are linked from there and not
        /// downloaded; the others are downloaded into it (each once, whatever other processes fill
        /// it at the same time) and then linked (`ObjectStore.adopt`).
        public var sharedStore: ObjectStore?
        /// The defaults: downloads sized to the round trip, 4 MiB segments, `RetryPolicy()`, no copies,
        /// no shared store.
        public init() {}
    }

    let batch: BatchClient
    let downloader: ObjectDownloader
    /// The repository's own store, which gets every object in the end.
    public let store: ObjectStore
    let options: Options
    let logger: Logger

    /// - Parameters:
    ///   - endpoint: the LFS endpoint (`.../repo.git/info/lfs`).
    ///   - scope: the credential for the endpoint's origin (the hub token), sent there only, never
    ///     to storage hosts on other origins.
    ///   - pool: the HTTP clients and memory budget this fetch shares with every other transfer of
    ///     its owner (`TransferPool`).
    public init(endpoint: URL, scope: CredentialScope?, store: ObjectStore, pool: TransferPool,
                options: Options = Options(), logger: Logger) {
        let http = pool.http
        var client = BatchClient(endpoint: endpoint, scope: scope, http: http, logger: logger)
        client.retry = options.retry
        batch = client
        var downloader = ObjectDownloader(store: options.sharedStore ?? store, http: http, endpoint: endpoint, scope: scope,
                                          maximumSegment: options.segmentSize, retry: options.retry, space: .shared,
                                          logger: logger)
        downloader.makesCopies = options.makesCopies
        downloader.bulk = pool.bulk
        downloader.memory = pool.memory
        downloader.exclusive = options.sharedStore != nil
        downloader.memoryFollowsDistance = options.jobs == nil
        self.store = store
        self.downloader = downloader
        self.options = options
        self.logger = logger
    }


    /// Brings every object of `pointers` into the store. Never throws for one object: per-object
    /// failures are in the report. Throws for what stops everything: the batch endpoint refusing
    /// the credentials or not answering, and cancellation (objects already fetched stay).
    ///
    /// Batch requests (100 objects each) are pipelined with the downloads, as git-lfs does: the
    /// next batch is asked for while the objects of the last one download, so a slow batch API
    /// does not leave the connections idle; when many downloads are in flight (a long round
    /// trip), two batch requests are.
    ///
    /// `objectDone` is called as each object is in the store, with the verified copy written
    /// beside it when `makesCopies` asked for one, which the callback may move elsewhere and
    /// which is removed after it returns. For downloaded objects it runs in the download's own
    /// task, so calls for different objects may overlap: the loop that starts downloads does not
    /// wait for one file to be placed before it starts the next download.
    ///
    /// `meter` gets the totals and each object's bytes and outcome, for the progress snapshot and
    /// the events of its files (default: one that only counts).
    public func fetch(_ pointers: [Pointer], meter: TransferMeter = TransferMeter(.download),
                      objectDone: (@Sendable (Pointer, _ copy: URL?) async -> Void)? = nil) async throws -> FetchReport {
        var unique: [String: Pointer] = [:]
        for pointer in pointers { unique[pointer.oid] = pointer }
        var report = FetchReport()
        var missing: [Pointer] = []
        for pointer in unique.values.sorted(by: { $0.oid < $1.oid }) {
            if store.contains(pointer) {
                report.alreadyPresent += 1
                meter.skipped(pointer)
                await objectDone?(pointer, nil)
            } else if let shared = options.sharedStore, shared.contains(pointer) {
                do {
                    try store.adopt(pointer, from: shared)
                    report.fromSharedStore += 1
                    meter.skipped(pointer)
                    await objectDone?(pointer, nil)
                } catch {
                    report.failures[pointer.oid] = "\(error)"
                    meter.objectFailed(pointer, reason: "\(error)")
                }
            } else {
                missing.append(pointer)
            }
        }
        store.pruneScratch()
        let tracker = meter
        tracker.begin(missing)
        guard !missing.isEmpty else { return report }
        logger.info("LFS: \(missing.count) objects to download, \(report.alreadyPresent) already here")

        let size = BatchClient.maxObjectsPerRequest
        let chunks = stride(from: 0, to: missing.count, by: size).map { Array(missing[$0..<min($0 + size, missing.count)]) }
        let http = downloader.http
        var mostJobs = 0
        /// Downloads at once: fixed, or as the round trip to the storage host calls for now.
        func jobs(for answer: BatchObject?, remaining: Int) -> Int {
            if let fixed = options.jobs { return max(1, fixed) }
            let storage = answer?.origin(of: "download")
            let roundTrip = storage.flatMap(http.roundTrips.estimate(for:))
            // The connections the most downloads so far opened stay in use to the end.
            let jobs = InFlight.transfers(roundTrip: roundTrip, remaining: remaining, open: mostJobs)
            // As many connections as downloads (a large object's segments share them).
            if let storage { http.allowConnections(jobs, to: storage) }
            if jobs > mostJobs {
                mostJobs = jobs
                let ms = roundTrip.map { String(format: "%.1f ms", $0.timeInterval * 1000) } ?? "unknown"
                logger.debug("LFS: round trip to \(storage?.description ?? "storage") \(ms): \(jobs) downloads at once")
            }
            return jobs
        }
        enum Done: Sendable {
            case batch([Pointer], [BatchObject])
            case object(Pointer, Result<Void, LFSError>)
        }
        try await withThrowingTaskGroup(of: Done.self) { group in
            var queue: [(Pointer, BatchObject)] = []
            var head = 0
            var nextChunk = 0
            var batchesInFlight = 0
            var downloading = 0
            var limit = jobs(for: nil, remaining: missing.count)
            /// A batch request while the objects waiting and coming are fewer than a batch's worth,
            /// or than two rounds of downloads; at most two at once.
            func askForMore() {
                while batchesInFlight < 2, nextChunk < chunks.count,
                      queue.count - head + batchesInFlight * size < max(size, 2 * limit) {
                    let chunk = chunks[nextChunk]
                    nextChunk += 1
                    batchesInFlight += 1
                    group.addTask { [batch] in .batch(chunk, try await batch.batch(.download, chunk)) }
                }
            }
            func startDownloads() {
                // Objects not started yet: queued, and still to be asked for.
                let waiting = queue.count - head + missing.count - min(missing.count, nextChunk * size)
                limit = jobs(for: head < queue.count ? queue[head].1 : nil, remaining: waiting + downloading)
                while downloading < limit, head < queue.count {
                    let (pointer, answer) = queue[head]
                    head += 1
                    downloading += 1
                    group.addTask { [self] in
                        .object(pointer, await downloadAndHandOver(pointer, answer, tracker: tracker, objectDone: objectDone))
                    }
                }
            }
            askForMore()
            while let done = try await group.next() {
                switch done {
                case .batch(let chunk, let answers):
                    batchesInFlight -= 1
                    downloader.followDistance(answers.first?.origin(of: "download").flatMap(http.roundTrips.estimate(for:)))
                    for (pointer, answer) in zip(chunk, answers) {
                        if let error = answer.error {
                            report.failures[pointer.oid] = Self.describe(error)
                            tracker.objectFailed(pointer, reason: Self.describe(error))
                        } else if answer.actions?["download"] == nil {
                            report.failures[pointer.oid] = "the LFS server gave no download action"
                            tracker.objectFailed(pointer, reason: "the LFS server gave no download action")
                        } else {
                            queue.append((pointer, answer))
                        }
                    }
                case .object(let pointer, let outcome):
                    downloading -= 1
                    switch outcome {
                    case .success:
                        report.downloaded += 1
                        report.downloadedBytes = report.downloadedBytes.saturatingAdd(pointer.size)
                    case .failure(let error) where error.kind == .cancelled:
                        throw CancellationError()
                    case .failure(let error):
                        report.failures[pointer.oid] = error.message
                    }
                }
                startDownloads()
                askForMore()
            }
        }
        return report
    }

    /// One object downloaded (`download`), linked into this repository's store from a shared one,
    /// and handed to `objectDone`.
    private func downloadAndHandOver(_ pointer: Pointer, _ answer: BatchObject, tracker: TransferMeter,
                                     objectDone: (@Sendable (Pointer, _ copy: URL?) async -> Void)?) async
        -> Result<Void, LFSError>
    {
        let copy: URL?
        switch await download(pointer, answer, tracker: tracker) {
        case .success(let made): copy = made
        case .failure(let error): return .failure(error)
        }
        defer { if let copy { store.discard(copy) } }
        do {
            if let shared = options.sharedStore { try store.adopt(pointer, from: shared) }
        } catch {
            return .failure(error as? LFSError ?? LFSError(.io, "\(error)"))
        }
        await objectDone?(pointer, copy)
        return .success(())
    }

    /// One object, asking the batch API again for a fresh action when the one in hand expired
    /// before it could start, or once when the storage host refuses it (401 or 403: a presigned
    /// link that expired in flight, or whose expiry the server did not state).
    private func download(_ pointer: Pointer, _ answer: BatchObject, tracker: TransferMeter) async
        -> Result<URL?, LFSError>
    {
        do {
            let action: BatchObject.Action
            if let current = answer.action("download") {
                action = current
            } else {
                logger.debug("LFS: the action for \(pointer.oid.prefix(12)) expired; asking again")
                action = try await freshAction(for: pointer)
            }
            let copy: URL?
            do {
                copy = try await downloader.download(pointer, action: action) { tracker.bytes(pointer, $0) }
            } catch let error as LFSError where error.kind == .authentication {
                logger.info("LFS: \(error.message); asking the LFS server for a new link to \(pointer.oid.prefix(12))")
                copy = try await downloader.download(pointer, action: try await freshAction(for: pointer)) {
                    tracker.bytes(pointer, $0)
                }
            }
            tracker.objectDone(pointer)
            return .success(copy)
        } catch let error as LFSError {
            if error.kind != .cancelled { tracker.objectFailed(pointer, reason: error.message) }
            return .failure(error)
        } catch is CancellationError {
            return .failure(LFSError(.cancelled, "cancelled"))
        } catch {
            tracker.objectFailed(pointer, reason: "\(error)")
            return .failure(LFSError(.io, "\(error)"))
        }
    }

    /// A new download action for one object, straight from the batch API.
    private func freshAction(for pointer: Pointer) async throws -> BatchObject.Action {
        let again = try await batch.batch(.download, [pointer])
        if let error = again.first?.error { throw LFSError(.server, Self.describe(error)) }
        guard let action = again.first?.action("download", margin: 0) else {
            throw LFSError(.server, "the LFS server gave no usable download action")
        }
        return action
    }

    static func describe(_ error: BatchObject.ObjectError) -> String {
        let meaning: String
        switch StatusMeaning(error.code) {
        case .notFound: meaning = "the object is not on the LFS server"
        case .gone: meaning = "the object was removed from the LFS server"
        case .invalid: meaning = "the LFS server refused the object as invalid"
        case .refused: meaning = "the LFS server refused access to the object (\(error.code))"
        default: meaning = "the LFS server reported error \(error.code)"
        }
        if let message = error.message, !message.isEmpty { return "\(meaning) (\(message))" }
        return meaning
    }
}
