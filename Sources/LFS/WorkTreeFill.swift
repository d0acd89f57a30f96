import Foundation
import HTTP
import Logging
import Synchronization

/// Fills the LFS files of a work tree with their content: fetches the objects of the files that
/// still hold their pointer (from the repository's store, a shared store or the LFS server),
/// verifies each, and puts it in place, one file as soon as its object is in. It tells every file's
/// fate as `LFSEvent`s and in its `Outcome`; it never throws for one file's failure, only when it
/// is cancelled.
///
/// A clone runs it with a `CheckoutGate` (`EarlyFill`): batch requests and downloads start while
/// the checkout still writes the pointer files, and files are placed once the gate opens.
/// What git knows (which blobs are LFS files, the index) stays with the caller.
public struct WorkTreeFill: Sendable {
    /// How a fill downloads and places: concurrency, segment size, links, and a shared store.
    public struct Options: Sendable {
        /// Downloads at once; nil: sized to the round trip (`Fetcher.Options.jobs`).
        public var jobs: Int?
        /// The largest `Range` segment of a resumable download; 4 MiB by default
        /// (`Fetcher.Options.segmentSize`).
        public var segmentSize: Int64 = 4 << 20
        /// Hard-link work-tree files to the stored objects instead of copying them.
        public var link = false
        /// A store shared by many repositories (`Fetcher.Options.sharedStore`).
        public var sharedStore: URL?
        /// The defaults: downloads sized to the round trip, 4 MiB segments, copies (or copy-on-write
        /// clones) in the work tree, and the repository's own store only.
        public init(jobs: Int? = nil, segmentSize: Int64 = 4 << 20, link: Bool = false, sharedStore: URL? = nil) {
            self.jobs = jobs
            self.segmentSize = segmentSize
            self.link = link
            self.sharedStore = sharedStore
        }
    }

    /// One file that keeps its pointer, and why.
    public struct Failure: Sendable, Equatable {
        /// The file's path in the repository.
        public var path: String
        /// The SHA-256 of its object.
        public var oid: String
        /// Why it keeps its pointer: the server's message, a failed check, a path msgit will not write.
        public var reason: String
        /// A failure with every field given.
        public init(path: String, oid: String, reason: String) {
            self.path = path
            self.oid = oid
            self.reason = reason
        }
    }

    /// What a fill did: the files it placed or verified, those it could not, and what it downloaded.
    public struct Outcome: Sendable {
        /// The LFS files the fill was given.
        public var files = 0
        /// The LFS files the patterns left out (`excludedPaths`).
        public var excluded = 0
        /// Files this run put in place.
        public var placed: [String] = []
        /// Files whose content was in place already but not yet known to the index (a killed run
        /// placed it): verified against their pointer, to be refreshed like the placed ones.
        public var verified: [String] = []
        /// Sorted by path.
        public var failures: [Failure] = []
        /// Objects downloaded from the server; those found in a store are not counted.
        public var objectsDownloaded = 0
        /// The sizes of those objects, added up.
        public var bytesDownloaded: Int64 = 0
        /// An empty outcome: no file, nothing done.
        public init() {}
        /// Every file whose index entry should get its new stat data, sorted.
        public var settled: [String] { (placed + verified).sorted() }
    }

    /// The work tree.
    public let root: URL
    /// The repository's `.git` directory, whose `lfs/objects` store gets every object.
    public let gitDirectory: URL
    /// The LFS files to fill: those of the tree that the patterns allow.
    public let files: [LFSFile]
    /// The LFS files the patterns leave out: told as skipped, nothing else.
    public let excludedPaths: [String]
    /// Files whose work-tree size is their object's while the index records another: verified,
    /// not fetched (see `Outcome.verified`).
    public let unrefreshed: Set<String>
    /// The LFS endpoint (`.../repo.git/info/lfs`); nil when there is none, and then only objects
    /// already in the repository's store are placed and the other files fail with "no LFS endpoint".
    public let endpoint: URL?
    /// The credential for the endpoint's origin, and only there.
    public let scope: CredentialScope?
    /// The connections and memory budget the downloads share with every other transfer of their owner.
    public let pool: TransferPool
    /// Concurrency, segment size, links and shared store.
    public let options: Options
    /// Where the fill logs what it does.
    public let logger: Logger
    /// Where the events of each file go, if anywhere.
    public let events: LFSEvents?
    /// The counters of the whole fill, as they change.
    public let progress: (@Sendable (LFSProgress) -> Void)?

    /// A fill of `files` into the work tree at `root`; nothing happens until `run(gate:)` or
    /// `preview(checkedOut:)`. `scope` is sent only to the endpoint's origin, never to storage hosts
    /// elsewhere.
    public init(root: URL, gitDirectory: URL, files: [LFSFile], excludedPaths: [String] = [], unrefreshed: Set<String> = [],
                endpoint: URL?, scope: CredentialScope?, pool: TransferPool, options: Options = Options(),
                logger: Logger, events: LFSEvents? = nil, progress: (@Sendable (LFSProgress) -> Void)? = nil) {
        self.root = root
        self.gitDirectory = gitDirectory
        self.files = files
        self.excludedPaths = excludedPaths
        self.unrefreshed = unrefreshed
        self.endpoint = endpoint
        self.scope = scope
        self.pool = pool
        self.options = options
        self.logger = logger
        self.events = events
        self.progress = progress
    }

    /// Fetches and writes the files that still hold pointers. Throws only `CancellationError`.
    ///
    /// With `gate`, the work tree is being checked out while this runs: objects are fetched at
    /// once, and each file is placed once the gate opens, if the checkout succeeded and the file
    /// holds its pointer then.
    public func run(gate: CheckoutGate? = nil) async throws -> Outcome {
        var outcome = Outcome()
        outcome.files = files.count
        outcome.excluded = excludedPaths.count
        // The events name files; the meter tells every file of an object its bytes and failure,
        // and the fill tells the rest (queued, skipped, placed, failures of its own).
        let meter = TransferMeter(.download, paths: Dictionary(grouping: files, by: \.pointer.oid).mapValues { $0.map(\.path) },
                                  objectIsDone: false, events: events, progress: progress)
        for path in excludedPaths { meter.tell(path, .skipped(.excluded)) }
        let store = ObjectStore(gitDirectory: gitDirectory)
        let workTree = WorkTree(root: root, store: store, placement: options.link ? .hardLink : .copy)
        func fail(_ file: LFSFile, _ reason: String) {
            outcome.failures.append(Failure(path: file.path, oid: file.pointer.oid, reason: reason))
            meter.tell(file.path, .failed(reason: reason))
        }

        var pending = files
        if gate == nil {
            pending = []
            for file in files {
                switch workTree.state(of: file) {
                case .pointer: pending.append(file)
                case .unsafe(let reason): fail(file, reason)
                case .resolved: meter.tell(file.path, .skipped(.present))
                case .other: break
                }
            }
        }
        // Content behind a pointer extension needs that extension's smudge program.
        for file in pending where !file.pointer.extensions.isEmpty {
            fail(file, "it uses the LFS extension \(file.pointer.extensions[0].key), which msgit does not run")
        }
        pending.removeAll { !$0.pointer.extensions.isEmpty }
        // Content a killed run placed without the index knowing: verified, then settled.
        let (root, files, unrefreshed) = (root, files, unrefreshed)
        outcome.verified = try await BlockingWork.run {
            files.filter { unrefreshed.contains($0.path) }.filter { file in
                (try? file.pointer.matchesContent(of: root.appendingPathComponent(file.path))) == true
            }.map(\.path)
        }
        guard !pending.isEmpty else { return outcome.sorted() }
        for file in pending { meter.tell(file.path, .queued(oid: file.pointer.oid, size: file.pointer.size)) }
        let byOID = Dictionary(grouping: pending, by: \.pointer.oid)
        let written = Mutex<(paths: [String], failures: [Failure])>(([], []))
        var fetchOptions = Fetcher.Options()
        fetchOptions.jobs = options.jobs
        fetchOptions.segmentSize = options.segmentSize
        fetchOptions.sharedStore = options.sharedStore.map { ObjectStore(root: $0) }
        // Where work-tree files cannot share the stored object's data (no links, no clones), each
        // fresh download is also written beside the store as it arrives, to be moved into the work
        // tree once its object verified, rather than copied from the store afterwards.
        if !options.link, !workTree.clonesFromStore() {
            fetchOptions.makesCopies = true
        }
        // Without an endpoint, what the store holds is still placed; the rest keeps its pointer.
        let fetcher = endpoint.map { Fetcher(endpoint: $0, scope: scope, store: store, pool: pool, options: fetchOptions, logger: logger) }
        logger.info("LFS: \(pending.count) files to resolve from \(endpoint?.absoluteString ?? "the local store (no LFS endpoint)")")

        /// Puts the files of object `oid` in place; the first takes the copy written during the
        /// download, if there is one. After a checkout that ran with the fill (`gate`), only the
        /// files that hold their pointer then.
        let place: @Sendable (String, URL?) -> Void = { oid, copy in
            var files = byOID[oid] ?? []
            if gate != nil {
                files = files.filter { file in
                    switch workTree.state(of: file) {
                    case .pointer: return true
                    case .unsafe(let reason):
                        written.withLock { $0.failures.append(Failure(path: file.path, oid: file.pointer.oid, reason: reason)) }
                        meter.tell(file.path, .failed(reason: reason))
                        return false
                    default:
                        meter.tell(file.path, .skipped(.present))
                        return false
                    }
                }
            }
            for (index, file) in files.enumerated() {
                do {
                    try workTree.materialize(file, from: index == 0 ? copy : nil)
                    written.withLock { $0.paths.append(file.path) }
                    meter.tell(file.path, .done)
                } catch {
                    written.withLock { $0.failures.append(Failure(path: file.path, oid: file.pointer.oid, reason: "\(error)")) }
                    meter.tell(file.path, .failed(reason: "\(error)"))
                }
            }
        }
        /// Objects in before the checkout had written the pointer files (`gate`), and their copies
        /// kept under names of their own, placed when the downloads have ended.
        let early = Mutex<[(oid: String, copy: URL?)]>([])
        defer {
            for held in early.withLock({ $0 }) {
                if let copy = held.copy { store.discard(copy) }
            }
        }
        var report = FetchReport()
        /// Set when the batch endpoint itself failed: the reason of every file not resolved by then.
        var stopped: String?
        let objectDone: @Sendable (Pointer, URL?) async -> Void = { pointer, copy in
            if let gate {
                // While the checkout still writes the pointer files, the object waits without
                // its download's place: that would leave its connection idle, and libcurl
                // closes idle connections beyond four per transfer running.
                if !gate.isOpen {
                    let held = copy.flatMap { store.rename($0, to: $0.lastPathComponent + ".early") }
                    early.withLock { $0.append((pointer.oid, held)) }
                    return
                }
                guard await gate.wait() else { return }
            }
            // Each file as soon as its object is in: the work tree never waits for the slowest.
            // Copying blocks, so it runs off the concurrency pool.
            _ = try? await BlockingWork.run { place(pointer.oid, copy) }
        }
        do {
            if let fetcher {
                report = try await fetcher.fetch(pending.map(\.pointer), meter: meter, objectDone: objectDone)
            } else {
                for pointer in Dictionary(pending.map { ($0.pointer.oid, $0.pointer) }, uniquingKeysWith: { a, _ in a }).values {
                    if store.contains(pointer) {
                        await objectDone(pointer, nil)
                    } else {
                        report.failures[pointer.oid] = "no LFS endpoint"
                    }
                }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as LFSError where error.kind == .cancelled {
            throw CancellationError()
        } catch {
            stopped = (error as? LFSError)?.message ?? "\(error)"
        }
        if let gate, await gate.wait() {
            let held = early.withLock { list in
                defer { list = [] }
                return list
            }
            _ = try? await BlockingWork.run {
                for (oid, copy) in held {
                    place(oid, copy)
                    if let copy { store.discard(copy) }
                }
            }
        }
        let (placed, writeFailures) = written.withLock { ($0.paths, $0.failures) }
        outcome.placed = placed
        outcome.objectsDownloaded = report.downloaded
        outcome.bytesDownloaded = report.downloadedBytes
        outcome.failures += writeFailures
        let settled = Set(placed + outcome.verified + writeFailures.map(\.path))
        for file in pending where !settled.contains(file.path) {
            if let reason = stopped ?? report.failures[file.pointer.oid] {
                outcome.failures.append(Failure(path: file.path, oid: file.pointer.oid, reason: reason))
                // An object's own failure told its files already; a batch endpoint that failed, or
                // none at all, did not.
                if stopped != nil || fetcher == nil { meter.tell(file.path, .failed(reason: reason)) }
            }
        }
        return outcome.sorted()
    }
}

extension WorkTreeFill.Outcome {
    fileprivate func sorted() -> Self {
        var sorted = self
        sorted.placed.sort()
        sorted.verified.sort()
        sorted.failures.sort { $0.path < $1.path }
        return sorted
    }
}

/// Opens once, when a checkout has ended, and tells whether it succeeded: a fill started before
/// the checkout (`WorkTreeFill.run(gate:)`) places no file before then.
public final class CheckoutGate: Sendable {
    private struct State {
        var outcome: Bool?
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }
    private let state = Mutex(State())

    /// A gate that is closed until `open(checkedOut:)`.
    public init() {}

    /// Whether the checkout has ended, well or not.
    public var isOpen: Bool { state.withLock { $0.outcome != nil } }

    /// Opens the gate with the checkout's outcome; later calls change nothing.
    public func open(checkedOut: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.outcome == nil else { return [] }
            state.outcome = checkedOut
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: checkedOut) }
    }

    /// Waits for the gate to open; true when the checkout succeeded.
    public func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            let outcome = state.withLock { state -> Bool? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }
}

/// A fill started when a checkout starts, so that its batch requests and first downloads overlap
/// the writing of the pointer files. The caller then either `finish`es it (the checkout
/// succeeded) or `abandon`s it (anything failed).
public final class EarlyFill: Sendable {
    private let gate = CheckoutGate()
    private let task = Mutex<Task<WorkTreeFill.Outcome, any Error>?>(nil)

    /// A fill not started yet: call `start(_:)` as the checkout starts.
    public init() {}

    /// Whether `start(_:)` was called.
    public var started: Bool { task.withLock { $0 != nil } }

    /// Starts `fill` in a task of its own, held back from placing files until `finish()` or
    /// `abandon()`. Call it once.
    public func start(_ fill: WorkTreeFill) {
        let gate = self.gate
        task.withLock { $0 = Task { try await fill.run(gate: gate) } }
    }

    /// After the checkout: lets the fill place its files and waits for it (cancelling it if the
    /// caller is cancelled). Nil when none was started.
    public func finish() async throws -> WorkTreeFill.Outcome? {
        gate.open(checkedOut: true)
        guard let task = task.withLock({ $0 }) else { return nil }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// After a failure: stops the fill, which places nothing, and waits until it has ended, so
    /// that nothing writes into a directory the caller is about to remove.
    public func abandon() async {
        gate.open(checkedOut: false)
        guard let task = task.withLock({ $0 }) else { return }
        task.cancel()
        _ = await task.result
    }
}
