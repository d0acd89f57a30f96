import Foundation
import GitCore

/// What a fetch brought: the references it changed and what it received. The work tree is untouched.
public struct FetchResult: Sendable {
    /// The remote's URL, without userinfo.
    public var url: String
    /// References the fetch created, moved or deleted.
    public var updatedRefs: [ReferenceChange]
    /// Git objects received from the server; 0 when the repository was up to date.
    public var receivedObjects: Int
    /// Bytes of git's pack as they came over the network.
    public var receivedBytes: UInt64
    /// The whole operation, credentials included.
    public var duration: Duration

    /// A result with every field given.
    public init(url: String, updatedRefs: [ReferenceChange], receivedObjects: Int, receivedBytes: UInt64,
                duration: Duration) {
        self.url = url
        self.updatedRefs = updatedRefs
        self.receivedObjects = receivedObjects
        self.receivedBytes = receivedBytes
        self.duration = duration
    }
}

extension GitClient {
    /// Fetches from `remote` into the repository at `directory`: new commits on its branches and the
    /// tags that point into them, as `git fetch` does. `remote`: a configured remote's name or a
    /// URL; nil: the current branch's remote, else origin.
    public func fetch(in directory: URL, remote: String? = nil,
                      progress: ProgressHandler? = nil) async throws(MSGitError) -> FetchResult {
        try await operation("fetch") { _ throws(MSGitError) in
            try await performFetch(in: directory, remote: remote, progress: progress)
        }
    }

    private func performFetch(in directory: URL, remote: String?, progress: ProgressHandler?) async throws(MSGitError)
        -> FetchResult
    {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var setup: RemoteSetup?
        do {
            let remote = try await RemoteSetup.remoteName(remote, directory: directory)
            let loaded = try await RemoteSetup.load(directory: directory, remote: remote, client: self, secrets: secrets)
            setup = loaded
            let reporter = ProgressReporter(progress)
            let outcome = try await runFetch(loaded, directory: directory, remote: remote, reporter: reporter)
            await tell(loaded.resolution.credential, for: loaded.url, accepted: true)
            reporter.finish { $0.phase = .done }
            return FetchResult(url: loaded.url.string, updatedRefs: outcome.updates.map(ReferenceChange.init),
                               receivedObjects: outcome.progress.receivedObjects,
                               receivedBytes: outcome.progress.receivedBytes, duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }

    /// The fetch of `fetch` and `pull`: new commits of the remote's branches, and the tags that
    /// point into them.
    func runFetch(_ setup: RemoteSetup, directory: URL, remote: String, reporter: ProgressReporter) async throws
        -> FetchOutcome
    {
        let operation = try makeOperation()
        let authenticator = Authenticator(remote: setup.url, credential: setup.resolution.credential)
        let logger = self.logger
        logger.info("fetching \(setup.url) into \(directory.path)")
        return try await operation.run {
            let repository = try RemoteSetup.openRepository(directory)
            let callbacks = RemoteCallbacks.operation(authenticator: authenticator, reporter: reporter, logger: logger)
            let gitRemote = setup.isAnonymous
                ? try repository.anonymousRemote(url: setup.url.string, callbacks: callbacks, operation: operation)
                : try repository.remote(named: remote, callbacks: callbacks, operation: operation)
            return try gitRemote.fetch(tags: .auto, reflogMessage: "fetch: \(remote)")
        }
    }
}
