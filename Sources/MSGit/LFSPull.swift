import Foundation
import GitCore
import LFS

/// What an LFS pull resolved, and what it could not (`lfs.failures`).
public struct LFSPullResult: Sendable {
    /// The remote's URL, without userinfo.
    public var url: String
    /// The LFS files of the checked-out tree: resolved, excluded, and left as pointers with the reason.
    public var lfs: LFSSummary
    /// The whole operation.
    public var duration: Duration

    /// A result with every field given.
    public init(url: String, lfs: LFSSummary, duration: Duration) {
        self.url = url
        self.lfs = lfs
        self.duration = duration
    }
}

extension GitClient {
    /// Downloads the LFS objects of the checked-out tree that are missing and puts their content in
    /// the work tree, as `git lfs pull` does. Objects already in `.git/lfs/objects` are not
    /// downloaded again; partial downloads of an interrupted run are continued.
    ///
    /// Files that cannot be fetched stay pointers and are listed in `lfs.failures`; the call does
    /// not throw for them.
    ///
    /// `remote`: a configured remote's name or a URL; nil: the current branch's remote, else origin.
    public func lfsPull(in directory: URL, remote: String? = nil, lfs options: LFSOptions = LFSOptions(),
                        progress: ProgressHandler? = nil,
                        events handler: LFSEventHandler? = nil) async throws(MSGitError) -> LFSPullResult {
        try await operation("lfs_pull", events: handler) { events throws(MSGitError) in
            try await performLFSPull(in: directory, remote: remote, options: options, progress: progress, events: events)
        }
    }

    private func performLFSPull(in directory: URL, remote: String?, options: LFSOptions,
                                progress: ProgressHandler?, events: LFSEvents?) async throws(MSGitError) -> LFSPullResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var setup: RemoteSetup?
        do {
            let remote = try await RemoteSetup.remoteName(remote, directory: directory)
            let loaded = try await RemoteSetup.load(directory: directory, remote: remote, client: self, secrets: secrets)
            setup = loaded
            let (plan, root) = try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                guard let root = repository.workingDirectory else {
                    throw MSGitError(.invalidArgument, "'\(directory.path)' is a bare repository: lfs pull needs a work tree")
                }
                return (try LFSPass.plan(repository: repository, remoteName: remote, remoteURL: loaded.url, options: options), root)
            }
            let reporter = ProgressReporter(progress)
            let pass = LFSPass(client: self, directory: root, remoteName: remote, remoteURL: loaded.url,
                               credential: loaded.resolution.credential, secrets: secrets, options: options,
                               reporter: reporter, events: events)
            let (summary, resolved) = try await pass.run(plan)
            try await pass.settle(resolved, gitDirectory: plan.gitDirectory)
            reporter.finish { $0.phase = .done }
            return LFSPullResult(url: loaded.url.string, lfs: summary, duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }
}
