import Foundation
import GitCore

public struct FetchResult: Sendable {
    public var url: String
    /// References the fetch created, moved or deleted.
    public var updatedRefs: [ReferenceChange]
    public var receivedObjects: Int
    public var receivedBytes: UInt64
    public var duration: Duration
}

extension GitClient {
    /// Fetches from `remote` into the repository at `directory`: new commits on its branches and the
    /// tags that point into them, as `git fetch` does.
    public func fetch(in directory: URL, remote: String = "origin",
                      progress: ProgressHandler? = nil) async throws(MSGitError) -> FetchResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var setup: RemoteSetup?
        do {
            let loaded = try await RemoteSetup.load(directory: directory, remote: remote, client: self, secrets: secrets)
            setup = loaded
            let reporter = ProgressReporter(progress)
            let operation = makeOperation()
            let authenticator = Authenticator(remote: loaded.url, credential: loaded.resolution.credential)
            let logger = self.logger
            logger.info("fetching \(loaded.url) into \(directory.path)")
            let outcome = try await operation.run {
                let repository = try RemoteSetup.openRepository(directory)
                let callbacks = RemoteCallbacks.operation(authenticator: authenticator, reporter: reporter, logger: logger)
                let gitRemote = loaded.isAnonymous
                    ? try repository.anonymousRemote(url: loaded.url.string, callbacks: callbacks, operation: operation)
                    : try repository.remote(named: remote, callbacks: callbacks, operation: operation)
                return try gitRemote.fetch(tags: .auto, reflogMessage: "fetch: \(remote)")
            }
            reporter.finish { $0.phase = .done }
            return FetchResult(url: loaded.url.string, updatedRefs: outcome.updates.map(ReferenceChange.init),
                               receivedObjects: outcome.progress.receivedObjects,
                               receivedBytes: outcome.progress.receivedBytes, duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }
}
