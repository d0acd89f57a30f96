import Foundation
import GitCore
import Logging

public struct FetchResult: Sendable {
    public var url: String
    /// References the fetch created, moved or deleted.
    public var updatedRefs: [RefUpdate]
    public var receivedObjects: Int
    public var receivedBytes: UInt64
    public var duration: Duration
}

/// What an operation on an existing repository needs to know about one of its remotes.
struct RemoteSetup: Sendable {
    let url: RemoteURL
    let resolution: CredentialResolution
    /// The remote was given as a URL (or short name), not the name of a configured remote.
    let isAnonymous: Bool

    /// Reads `remote.<name>.url` of the repository at `directory` (or takes `remote` itself when it
    /// is a URL) and resolves its credential.
    static func load(directory: URL, remote: String, client: GitClient, purpose: CredentialPurpose = .read,
                     secrets: SecretScope) async throws -> RemoteSetup {
        let configured: String
        let isAnonymous = remote.contains("://") || ShortNames.expand(remote) != remote
        if isAnonymous {
            configured = ShortNames.expand(remote)
        } else {
            configured = try await GitOperation().run {
                let repository = try Self.openRepository(directory)
                guard let url = repository.config("remote.\(remote).url") else {
                    throw MSGitError(.invalidArgument, "'\(remote)' does not appear to be a git repository",
                                     hint: "no remote named '\(remote)' in \(directory.path)")
                }
                return url
            }
        }
        let url = try RemoteURL(configured)
        return RemoteSetup(url: url, resolution: try CredentialResolution(url: url, client: client, purpose: purpose,
                                                                           secrets: secrets),
                           isAnonymous: isAnonymous)
    }

    static func openRepository(_ directory: URL) throws -> Repository {
        do {
            return try Repository.open(at: directory)
        } catch {
            throw MSGitError(.invalidArgument, "not a git repository: '\(directory.path)'")
        }
    }
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
                let callbacks = makeCallbacks(authenticator: authenticator, reporter: reporter, logger: logger)
                let gitRemote = loaded.isAnonymous
                    ? try repository.anonymousRemote(url: loaded.url.string, callbacks: callbacks, operation: operation)
                    : try repository.remote(named: remote, callbacks: callbacks, operation: operation)
                return try gitRemote.fetch(tags: .auto, reflogMessage: "fetch: \(remote)")
            }
            reporter.finish { $0.phase = .done }
            return FetchResult(url: loaded.url.string, updatedRefs: outcome.updates,
                               receivedObjects: outcome.progress.receivedObjects,
                               receivedBytes: outcome.progress.receivedBytes, duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }
}
