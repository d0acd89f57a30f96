import Foundation
import GitCore
import LFS
import PathSafety

/// What a clone checks out, and whether it has a work tree at all; `LFSOptions` says what becomes
/// of its LFS files.
public struct CloneOptions: Sendable {
    /// The branch (or tag, which leaves HEAD detached) to check out instead of the remote's HEAD.
    public var branch: String?
    /// Exactly this to check out: a branch, a tag or a commit id (full, or a prefix of at least 4
    /// hex digits) of the repository's history; a tag or commit leaves HEAD detached. Wins over
    /// `branch`. `CloneResult.head` names the commit either way.
    public var revision: String?
    /// A bare repository: no work tree, branches copied to refs/heads as they are on the server.
    public var bare = false

    /// The defaults check out the remote's HEAD into a work tree.
    public init(branch: String? = nil, revision: String? = nil, bare: Bool = false) {
        self.branch = branch
        self.revision = revision
        self.bare = bare
    }
}

/// What a clone made: where, at which commit, what it received, and what became of its LFS files.
public struct CloneResult: Sendable {
    /// The repository URL, without userinfo.
    public var url: String
    /// The directory of the clone: the one given, or the repository's name in the current directory.
    public var directory: URL
    /// The branch checked out (short name); nil when HEAD is detached or the repository is empty.
    public var branch: String?
    /// The commit HEAD points to; nil for an empty repository.
    public var head: String?
    /// The remote has no branches yet.
    public var isEmptyRepository: Bool
    /// Git objects received from the server (LFS objects are counted in `lfs`).
    public var receivedObjects: Int
    /// Bytes of git's pack as they came over the network.
    public var receivedBytes: UInt64
    /// The whole operation, from credentials to the last LFS file in place.
    public var duration: Duration
    /// Things the user should know that did not stop the clone.
    public var warnings: [String]
    /// The LFS files of the checked-out tree; `lfs.failures` lists those left as pointers.
    public var lfs: LFSSummary = LFSSummary()

    /// A result with every field given; `branch` and `head` nil as for an empty repository, `lfs`
    /// empty as for a clone without LFS files.
    public init(url: String, directory: URL, branch: String? = nil, head: String? = nil, isEmptyRepository: Bool,
                receivedObjects: Int, receivedBytes: UInt64, duration: Duration, warnings: [String],
                lfs: LFSSummary = LFSSummary()) {
        self.url = url
        self.directory = directory
        self.branch = branch
        self.head = head
        self.isEmptyRepository = isEmptyRepository
        self.receivedObjects = receivedObjects
        self.receivedBytes = receivedBytes
        self.duration = duration
        self.warnings = warnings
        self.lfs = lfs
    }

    /// Throws `.lfsIncomplete` (with `lfsFailures`) when some LFS files stayed pointers, for
    /// callers that want all or nothing.
    public func requireCompleteLFS() throws(MSGitError) {
        try lfs.requireComplete()
    }
}

extension GitClient {
    /// Clones `url` into `directory` (default: the repository's name in the current directory).
    /// `url` may be a short name, `namespace/name` (see `ShortNames`).
    ///
    /// The directory must not exist or be empty; on failure or cancellation msgit removes what it
    /// made, as git does. The remote URL written to the configuration never holds userinfo.
    /// The LFS files of the checked-out tree are resolved unless `lfs.enabled` is false.
    public func clone(_ url: String, into directory: URL? = nil, options: CloneOptions = CloneOptions(),
                      lfs: LFSOptions = LFSOptions(), progress: ProgressHandler? = nil,
                      events handler: LFSEventHandler? = nil) async throws(MSGitError) -> CloneResult {
        try await operation("clone", events: handler) { events throws(MSGitError) in
            try await performClone(try RemoteURL.resolving(url), into: directory, options: options, lfs: lfs,
                                   progress: progress, events: events)
        }
    }

    /// `clone` of a URL already parsed.
    public func clone(_ url: RemoteURL, into directory: URL? = nil, options: CloneOptions = CloneOptions(),
                      lfs: LFSOptions = LFSOptions(), progress: ProgressHandler? = nil,
                      events handler: LFSEventHandler? = nil) async throws(MSGitError) -> CloneResult {
        try await operation("clone", events: handler) { events throws(MSGitError) in
            try await performClone(url, into: directory, options: options, lfs: lfs, progress: progress, events: events)
        }
    }

    private func performClone(_ remoteURL: RemoteURL, into directory: URL?, options: CloneOptions, lfs lfsOptions: LFSOptions,
                              progress: ProgressHandler?, events: LFSEvents?) async throws(MSGitError) -> CloneResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        let resolution: CredentialResolution
        do {
            resolution = try CredentialResolution(url: remoteURL, client: self, secrets: secrets)
        } catch {
            throw MSGitError.from(error)
        }
        let name = remoteURL.humanishName + (options.bare ? ".git" : "")
        if directory == nil, let problem = PathRules.problem(withNamePart: name) {
            // As git does, the directory is named after the URL, which here (decoded) is no name
            // for one: `ns/..%2Fevil` would clone beside the current directory.
            throw MSGitError(.invalidArgument, "cannot name the clone's directory after '\(remoteURL)': it would be \(problem)",
                             hint: "give the directory: msgit clone <url> <directory>")
        }
        let destination = directory ?? URL(fileURLWithPath: name, isDirectory: true)
        let operation = try makeOperation()
        let created: Destination
        do {
            created = try Destination.prepare(destination, for: remoteURL, bare: options.bare)
        } catch {
            throw MSGitError.from(error)
        }

        logger.info("cloning \(remoteURL) into \(destination.path)",
                    metadata: ["credential": "\(resolution.credential?.description ?? "none")"])
        if created.resumed {
            logger.info("\(destination.path) holds a clone of \(remoteURL) that was stopped before it ended: starting over, keeping its LFS objects")
        }
        let reporter = ProgressReporter(progress)
        // The LFS pass starts with the checkout: its batch requests and first downloads go ahead
        // while the pointer files are written, and it places files once they all are.
        let pass = LFSPass(client: self, directory: destination, remoteName: "origin", remoteURL: remoteURL,
                           credential: resolution.credential, secrets: secrets, options: lfsOptions, reporter: reporter, events: events)
        let lfs = EarlyFill()
        let job = CloneJob(url: remoteURL, directory: destination, options: options, lfs: lfsOptions,
                           authenticator: Authenticator(remote: remoteURL, credential: resolution.credential),
                           reporter: reporter, operation: operation, logger: logger,
                           beforeCheckout: { plan in
                               if !plan.files.isEmpty || plan.excluded > 0, let fill = try? pass.fill(plan) { lfs.start(fill) }
                           })
        do {
            var result = try await operation.run { try job.run() }
            await tell(resolution.credential, for: remoteURL, accepted: true)
            if lfs.started { reporter.update { $0.phase = .lfs } }
            if let outcome = try await lfs.finish() {
                try Task.checkCancellation()
                let resolved = outcome.settled
                if !resolved.isEmpty {
                    try await GitOperation().run { try Repository.open(at: destination).refreshIndexStat(paths: resolved) }
                }
                result.lfs = LFSSummary(outcome)
            }
            created.finish()
            result.duration = ContinuousClock.now - start
            reporter.finish { $0.phase = .done }
            logger.info("cloned \(remoteURL): \(result.receivedObjects) objects, \(result.receivedBytes) bytes")
            return result
        } catch {
            await lfs.abandon()
            created.discard()
            throw await explain(error, url: remoteURL, credential: resolution.credential)
        }
    }
}
