import Foundation
import GitCore
import HTTP
import LFS
import Synchronization

/// Resolves the LFS files of a work tree: find the pointers of HEAD's tree whose path has
/// `filter=lfs`, fetch their objects, put the content in place, refresh the index.
struct LFSPass: Sendable {
    let client: GitClient
    let directory: URL
    let remoteName: String
    let remoteURL: RemoteURL
    let credential: Credential?
    let secrets: SecretScope
    let options: LFSOptions
    let reporter: ProgressReporter
    /// Where the events of each file go, if anywhere.
    var events: LFSEvents?

    /// The LFS files of HEAD and the endpoint, read with libgit2 (on the operation's thread).
    struct Plan: Sendable {
        var files: [LFSFile]
        /// The LFS files the include/exclude patterns leave out.
        var excludedPaths: [String]
        var excluded: Int { excludedPaths.count }
        var endpoint: URL?
        var gitDirectory: URL
        /// The shared object store, if the options or the repository's `lfs.storage` name one.
        var sharedStorage: URL?
        /// Files whose work-tree size is their object's while the index still records another
        /// (its pointer's): content a killed pass put in place before it could refresh the index.
        /// git takes a size change for a modification without reading the file, so the pass
        /// verifies their content and refreshes them.
        var unrefreshed: Set<String> = []
    }

    /// The plan for HEAD's LFS files that the options' patterns allow, or for those of them in `only`.
    ///
    /// `beforeCheckout` reads the attributes from HEAD's commit (and the repository's own attribute
    /// files) rather than from the work tree and the index, which a clone has not written yet.
    static func plan(repository: Repository, remoteName: String, remoteURL: RemoteURL, options: LFSOptions,
                     only: Set<String>? = nil, beforeCheckout: Bool = false) throws -> Plan {
        let filter = pathFilter(options, repository: repository)
        var files: [LFSFile] = []
        var excluded: [String] = []
        if let head = repository.commit(for: "HEAD"), only?.isEmpty != true {
            let attributesFrom = beforeCheckout ? head : nil
            try repository.walkFiles(ofCommit: head, contentLimit: Pointer.maximumFileSize - 1) { blob, content in
                guard only?.contains(blob.path) ?? true, let content, let pointer = Pointer(content),
                      repository.attribute("filter", for: blob.path, commit: attributesFrom) == "lfs" else { return }
                if filter.allows(blob.path) {
                    files.append(LFSFile(path: blob.path, pointer: pointer))
                } else {
                    excluded.append(blob.path)
                }
            }
        }
        var unrefreshed: Set<String> = []
        if !beforeCheckout, let root = repository.workingDirectory, !files.isEmpty {
            let indexSizes = try repository.indexFileSizes(files.map(\.path))
            for file in files {
                var st = stat()
                guard lstat(root.appendingPathComponent(file.path).path, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
                      Int64(st.st_size) == file.pointer.size, let recorded = indexSizes[file.path],
                      recorded != Int64(UInt32(truncatingIfNeeded: file.pointer.size)) else { continue }
                unrefreshed.insert(file.path)
            }
        }
        return Plan(files: files, excludedPaths: excluded,
                    endpoint: endpoint(repository: repository, remoteName: remoteName, remoteURL: remoteURL),
                    gitDirectory: repository.gitDirectory, sharedStorage: sharedStorage(options, repository: repository),
                    unrefreshed: unrefreshed)
    }

    /// The shared store: the one given, else `lfs.storage` from the repository's configuration
    /// (relative to its git directory, as git-lfs reads it).
    static func sharedStorage(_ options: LFSOptions, repository: Repository) -> URL? {
        if let storage = options.storage { return storage }
        guard let configured = repository.config("lfs.storage"), !configured.isEmpty else { return nil }
        let expanded = NSString(string: configured).expandingTildeInPath
        return expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded)
            : repository.gitDirectory.appendingPathComponent(expanded)
    }

    /// Which LFS files to fetch: the patterns given, else those git-lfs reads from the repository's
    /// configuration (`lfs.fetchinclude`, `lfs.fetchexclude`, comma-separated), where a user keeps a
    /// lasting choice. Patterns given to one command are not kept, as git-lfs keeps none either.
    static func pathFilter(_ options: LFSOptions, repository: Repository) -> PathFilter {
        let include = options.include.isEmpty ? PathFilter.patterns(repository.config("lfs.fetchinclude")) : options.include
        let exclude = options.exclude.isEmpty ? PathFilter.patterns(repository.config("lfs.fetchexclude")) : options.exclude
        return PathFilter(include: include, exclude: exclude)
    }

    /// The LFS endpoint for `remoteName`: git configuration, then `.lfsconfig` (the work tree's, or
    /// HEAD's in a bare repository), then the remote URL.
    static func endpoint(repository: Repository, remoteName: String, remoteURL: RemoteURL) -> URL? {
        var config: [String: String] = [:]
        for key in ["lfs.url", "remote.\(remoteName.lowercased()).lfsurl"] {
            if let value = repository.config(key) { config[key] = value }
        }
        let lfsconfig = repository.workingDirectory.flatMap {
            try? String(contentsOf: $0.appendingPathComponent(".lfsconfig"), encoding: .utf8)
        } ?? repository.commit(for: "HEAD").flatMap { repository.fileContent(".lfsconfig", in: $0) }
            .map { String(decoding: $0, as: UTF8.self) }
        return Endpoint.resolve(remoteURL: remoteURL.string, remoteName: remoteName, config: config, lfsconfig: lfsconfig)
    }

    /// Fetches and writes the files of `plan` that still hold pointers. Per-file failures are in
    /// the summary; only cancellation throws.
    ///
    /// With `checkedOut`, the pass starts before the checkout of a new work tree has written the
    /// pointer files (a clone, `plan(beforeCheckout:)`): batch requests and downloads go ahead, and
    /// each file is placed once the gate opens, if the checkout succeeded and the file holds its
    /// pointer then.
    func run(_ plan: Plan, checkedOut: CheckoutGate? = nil) async throws -> (LFSSummary, resolvedPaths: [String]) {
        var summary = LFSSummary()
        summary.files = plan.files.count
        summary.filesExcluded = plan.excluded
        // The events name files; the meter tells every file of an object its bytes and failure,
        // and the pass tells the rest (queued, skipped, placed, failures of its own).
        let meter = TransferMeter(.download, paths: Dictionary(grouping: plan.files, by: \.pointer.oid).mapValues { $0.map(\.path) },
                                  objectIsDone: false, events: events, progress: reporter.updateLFS)
        for path in plan.excludedPaths { meter.tell(path, .skipped(.excluded)) }
        let store = ObjectStore(gitDirectory: plan.gitDirectory)
        let workTree = WorkTree(root: directory, store: store, placement: options.link ? .hardLink : .copy)
        var pending = plan.files
        if checkedOut == nil {
            pending = []
            for file in plan.files {
                switch workTree.state(of: file) {
                case .pointer: pending.append(file)
                case .unsafe(let reason):
                    summary.failures.append(LFSFailure(path: file.path, oid: file.pointer.oid, reason: reason))
                    meter.tell(file.path, .failed(reason: reason))
                case .resolved: meter.tell(file.path, .skipped(.present))
                case .other: break
                }
            }
        }
        // Content behind a pointer extension needs that extension's smudge program.
        for file in pending where !file.pointer.extensions.isEmpty {
            let reason = "it uses the LFS extension \(file.pointer.extensions[0].key), which msgit does not run"
            summary.failures.append(LFSFailure(path: file.path, oid: file.pointer.oid, reason: reason))
            meter.tell(file.path, .failed(reason: reason))
        }
        pending.removeAll { !$0.pointer.extensions.isEmpty }
        // Content a killed pass placed without refreshing the index: verified, then refreshed.
        let verified = try await BlockingWork.run { [plan] in
            plan.files.filter { plan.unrefreshed.contains($0.path) }.filter { file in
                (try? file.pointer.matchesContent(of: directory.appendingPathComponent(file.path))) == true
            }.map(\.path)
        }
        guard !pending.isEmpty else { return (summary, verified.sorted()) }
        for file in pending { meter.tell(file.path, .queued(oid: file.pointer.oid, size: file.pointer.size)) }
        guard let endpoint = plan.endpoint else {
            summary.failures += pending.map { LFSFailure(path: $0.path, oid: $0.pointer.oid, reason: "no LFS endpoint") }
            for file in pending { meter.tell(file.path, .failed(reason: "no LFS endpoint")) }
            return (summary, [])
        }

        let byOID = Dictionary(grouping: pending, by: \.pointer.oid)
        let written = Mutex<(paths: [String], failures: [LFSFailure])>(([], []))
        let pool = try client.transferPool()
        var fetchOptions = Fetcher.Options()
        fetchOptions.jobs = options.jobs
        fetchOptions.segmentSize = options.segmentSize
        fetchOptions.sharedStore = plan.sharedStorage.map { ObjectStore(root: $0) }
        // Where work-tree files cannot share the stored object's data (no links, no clones), each
        // fresh download is also written beside the store as it arrives, to be moved into the work
        // tree once its object verified, rather than copied from the store afterwards.
        if !options.link, !workTree.clonesFromStore() {
            fetchOptions.makesCopies = true
        }
        let fetcher = Fetcher(endpoint: endpoint, scope: lfsScope(for: endpoint), store: store, pool: pool,
                              options: fetchOptions, logger: client.logger)
        client.logger.info("LFS: \(pending.count) files to resolve from \(endpoint.absoluteString)")
        let reporter = self.reporter
        if checkedOut == nil { reporter.update { $0.phase = .lfs } }

        /// Puts the files of object `oid` in place; the first takes the copy written during the
        /// download, if there is one. After a checkout that ran with the pass (`checkedOut`), only
        /// the files that hold their pointer then.
        let place: @Sendable (String, URL?) -> Void = { oid, copy in
            var files = byOID[oid] ?? []
            if checkedOut != nil {
                files = files.filter { file in
                    switch workTree.state(of: file) {
                    case .pointer: return true
                    case .unsafe(let reason):
                        written.withLock { $0.failures.append(LFSFailure(path: file.path, oid: file.pointer.oid, reason: reason)) }
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
                    written.withLock {
                        $0.failures.append(LFSFailure(path: file.path, oid: file.pointer.oid, reason: "\(error)"))
                    }
                    meter.tell(file.path, .failed(reason: "\(error)"))
                }
            }
        }
        /// Objects in before the checkout had written the pointer files (`checkedOut`), and their
        /// copies kept under names of their own, placed when the downloads have ended.
        let early = Mutex<[(oid: String, copy: URL?)]>([])
        defer {
            for held in early.withLock({ $0 }) {
                if let copy = held.copy { store.discard(copy) }
            }
        }
        var report = FetchReport()
        /// Set when the batch endpoint itself failed: the reason of every file not resolved by then.
        var stopped: String?
        do {
            report = try await fetcher.fetch(pending.map(\.pointer), meter: meter, objectDone: { pointer, copy in
                if let checkedOut {
                    // While the checkout still writes the pointer files, the object waits without
                    // its download's place: that would leave its connection idle, and libcurl
                    // closes idle connections beyond four per transfer running.
                    if !checkedOut.isOpen {
                        let held = copy.flatMap { store.rename($0, to: $0.lastPathComponent + ".early") }
                        early.withLock { $0.append((pointer.oid, held)) }
                        return
                    }
                    guard await checkedOut.wait() else { return }
                }
                // Each file as soon as its object is in: the work tree never waits for the slowest.
                // Copying blocks, so it runs off the concurrency pool.
                _ = try? await BlockingWork.run { place(pointer.oid, copy) }
            })
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as LFSError where error.kind == .cancelled {
            throw CancellationError()
        } catch {
            stopped = (error as? LFSError)?.message ?? "\(error)"
        }
        if let checkedOut, await checkedOut.wait() {
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
        let paths = placed + verified
        summary.filesResolved = placed.count
        summary.objectsDownloaded = report.downloaded
        summary.bytesDownloaded = report.downloadedBytes
        summary.failures += writeFailures
        let settled = Set(paths + writeFailures.map(\.path))
        for file in pending where !settled.contains(file.path) {
            if let reason = stopped ?? report.failures[file.pointer.oid] {
                summary.failures.append(LFSFailure(path: file.path, oid: file.pointer.oid, reason: reason))
                // An object's own failure told its files already; a batch endpoint that failed did not.
                if stopped != nil { meter.tell(file.path, .failed(reason: reason)) }
            }
        }
        summary.failures.sort { $0.path < $1.path }
        return (summary, paths.sorted())
    }

    func lfsScope(for endpoint: URL) -> CredentialScope? {
        client.lfsScope(for: endpoint, remoteURL: remoteURL, credential: credential, secrets: secrets)
    }

    /// After `run`: the resolved files' index entries get their new stat data (so git sees them
    /// clean without reading them), and they leave the pending list of an interrupted update.
    func settle(_ resolved: [String], gitDirectory: URL) async throws {
        guard !resolved.isEmpty else { return }
        let root = directory
        try await GitOperation().run {
            try Repository.open(at: root).refreshIndexStat(paths: resolved)
            try PendingLFS.remove(resolved, gitDirectory: gitDirectory)
        }
    }
}

/// Opens once, when a checkout has ended, and tells whether it succeeded: an LFS pass started
/// before the checkout (`LFSPass.run(_:checkedOut:)`) places no file before then.
final class CheckoutGate: Sendable {
    private struct State {
        var outcome: Bool?
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }
    private let state = Mutex(State())

    init() {}

    var isOpen: Bool { state.withLock { $0.outcome != nil } }

    /// Opens the gate with the checkout's outcome; later calls change nothing.
    func open(checkedOut: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.outcome == nil else { return [] }
            state.outcome = checkedOut
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: checkedOut) }
    }

    /// Waits for the gate to open; true when the checkout succeeded.
    func wait() async -> Bool {
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

/// An LFS pass started when a clone's checkout starts (`CloneJob.beforeCheckout`), so that its
/// batch requests and first downloads overlap the writing of the pointer files. The clone then
/// either `finish`es it (the checkout succeeded) or `abandon`s it (anything failed).
final class EarlyLFSPass: Sendable {
    private let checkedOut = CheckoutGate()
    private let task = Mutex<Task<(LFSSummary, resolvedPaths: [String]), any Error>?>(nil)

    init() {}

    var started: Bool { task.withLock { $0 != nil } }

    func start(_ pass: LFSPass, _ plan: LFSPass.Plan) {
        let checkedOut = self.checkedOut
        task.withLock { $0 = Task { try await pass.run(plan, checkedOut: checkedOut) } }
    }

    /// After the checkout: lets the pass place its files and waits for it (cancelling it if the
    /// caller is cancelled). Nil when no pass was started (no LFS files).
    func finish() async throws -> (LFSSummary, resolvedPaths: [String])? {
        checkedOut.open(checkedOut: true)
        guard let task = task.withLock({ $0 }) else { return nil }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// After a failure: stops the pass, which places nothing, and waits until it has ended, so
    /// that nothing writes into a directory the caller is about to remove.
    func abandon() async {
        checkedOut.open(checkedOut: false)
        guard let task = task.withLock({ $0 }) else { return }
        task.cancel()
        _ = await task.result
    }
}
