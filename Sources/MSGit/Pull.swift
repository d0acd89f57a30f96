import Foundation
import GitCore
import LFS

/// What a pull did: where the branch was and is, what the fetch brought, and the LFS files it resolved.
public struct PullResult: Sendable {
    /// The remote's URL, without userinfo.
    public var url: String
    /// The branch that was updated (short name).
    public var branch: String
    /// The commit the branch pointed to before; nil for an unborn branch.
    public var previousHead: String?
    /// The commit the branch points to now (the same as `previousHead` when `upToDate`).
    public var head: String
    /// Nothing to do: the branch already had every commit of its upstream.
    public var upToDate: Bool
    /// References the fetch created, moved or deleted.
    public var updatedRefs: [ReferenceChange]
    /// Git objects received by the fetch.
    public var receivedObjects: Int
    /// Bytes of git's pack as they came over the network.
    public var receivedBytes: UInt64
    /// The LFS files the update wrote (and any an interrupted update left), resolved.
    public var lfs: LFSSummary
    /// The whole operation: fetch, fast-forward and LFS files.
    public var duration: Duration

    /// A result with every field given; `previousHead` nil as for a branch that had no commit yet.
    public init(url: String, branch: String, previousHead: String? = nil, head: String, upToDate: Bool,
                updatedRefs: [ReferenceChange], receivedObjects: Int, receivedBytes: UInt64, lfs: LFSSummary,
                duration: Duration) {
        self.url = url
        self.branch = branch
        self.previousHead = previousHead
        self.head = head
        self.upToDate = upToDate
        self.updatedRefs = updatedRefs
        self.receivedObjects = receivedObjects
        self.receivedBytes = receivedBytes
        self.lfs = lfs
        self.duration = duration
    }
}

extension GitClient {
    /// Brings the current branch up to date with its upstream, as `git pull --ff-only` with git-lfs
    /// does: fetch from `remote`, fast-forward the branch and its work tree to the upstream's tip
    /// (`branch` names another branch of the remote), then resolve the LFS files the update wrote.
    /// Objects already in the store are not downloaded again.
    ///
    /// msgit does not merge: a branch with commits its upstream lacks is refused
    /// (`.notFastForward`), and so is an update that would overwrite local changes or untracked
    /// files (`.localChanges`, git's words); nothing is changed then. Other local changes and
    /// untracked files stay.
    public func pull(in directory: URL, remote: String? = nil, branch: String? = nil, lfs options: LFSOptions = LFSOptions(),
                     progress: ProgressHandler? = nil,
        events handler: LFSEventHandler? = nil) async throws(MSGitError) -> PullResult {
        try await operation("pull", events: handler) { events throws(MSGitError) in
            try await performPull(in: directory, remote: remote, branch: branch, lfs: options, progress: progress, events: events)
        }
    }

    private func performPull(in directory: URL, remote: String? = nil, branch: String? = nil, lfs options: LFSOptions = LFSOptions(),
                     progress: ProgressHandler? = nil, events: LFSEvents?) async throws(MSGitError) -> PullResult {
        let start = ContinuousClock.now
        var setup: RemoteSetup?
        do {
            let upstream = try await GitOperation().run { try Upstream.find(directory, remote: remote, branch: branch) }
            let reporter = ProgressReporter(progress)
            let secrets = SecretScope()
            defer { secrets.end() }
            let loaded = try await RemoteSetup.load(directory: directory, remote: upstream.remote, client: self,
                                                    secrets: secrets)
            setup = loaded
            let fetched = try await runFetch(loaded, directory: directory, remote: upstream.remote, reporter: reporter)
            await tell(loaded.resolution.credential, for: loaded.url, accepted: true)

            let operation = try makeOperation()
            let (moved, plan) = try await operation.run { () -> (Moved, LFSPass.Plan?) in
                let repository = try RemoteSetup.openRepository(directory)
                let moved = try upstream.fastForward(repository, recordLFS: options.enabled, reporter: reporter)
                // The LFS files this update wrote, and any an interrupted one left.
                let pending = PendingLFS.read(repository.gitDirectory)
                guard options.enabled, !pending.isEmpty else { return (moved, nil) }
                return (moved, try LFSPass.plan(repository: repository, remoteName: upstream.remote, remoteURL: loaded.url,
                                                options: options, only: pending))
            }
            var summary = LFSSummary()
            if let plan {
                let pass = LFSPass(client: self, directory: moved.root, remoteName: upstream.remote, remoteURL: loaded.url,
                                   credential: loaded.resolution.credential, secrets: secrets, options: options,
                                   reporter: reporter, events: events)
                let (lfs, resolved) = try await pass.run(plan)
                try await pass.settle(resolved, gitDirectory: plan.gitDirectory)
                summary = lfs
            }
            reporter.finish { $0.phase = .done }
            return PullResult(url: loaded.url.string, branch: upstream.branch, previousHead: moved.previous?.hex,
                              head: moved.head.hex, upToDate: moved.upToDate,
                              updatedRefs: fetched.updates.map(ReferenceChange.init),
                              receivedObjects: fetched.progress.receivedObjects, receivedBytes: fetched.progress.receivedBytes,
                              lfs: summary, duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }
}

/// Where a branch moved (or did not).
struct Moved: Sendable {
    var previous: ObjectID?
    var head: ObjectID
    var upToDate: Bool
    var root: URL
}

/// The current branch and the remote branch it follows.
struct Upstream: Sendable {
    /// Short names: the local branch, the remote, and the remote's branch.
    var branch: String
    var remote: String
    var remoteBranch: String

    /// The current branch's upstream from `branch.<name>.remote`/`.merge` (default: origin and the
    /// same name), or the branch of `remote` given.
    static func find(_ directory: URL, remote: String?, branch: String?) throws -> Upstream {
        let repository = try RemoteSetup.openRepository(directory)
        guard repository.workingDirectory != nil else {
            throw MSGitError(.invalidArgument, "'\(directory.path)' is a bare repository: pull needs a work tree")
        }
        guard let head = repository.headReferenceName, head.hasPrefix("refs/heads/") else {
            throw MSGitError(.invalidArgument, "You are not currently on a branch.",
                             hint: "check out the branch to update first: msgit checkout <branch>")
        }
        let local = String(head.dropFirst("refs/heads/".count))
        if let remote, remote.contains("://") || HuggingFaceName.isShortName(remote) || ShortNames.expand(remote) != remote {
            throw MSGitError(.invalidArgument, "msgit pulls from a configured remote, not a URL ('\(remote)')",
                             hint: "name a remote of the repository, such as origin")
        }
        let remoteName = remote ?? repository.config("branch.\(local).remote") ?? "origin"
        let merge = branch.map { $0.hasPrefix("refs/heads/") ? $0 : "refs/heads/\($0)" }
            ?? (remote == nil ? repository.config("branch.\(local).merge") : nil) ?? "refs/heads/\(local)"
        return Upstream(branch: local, remote: remoteName, remoteBranch: String(merge.dropFirst("refs/heads/".count)))
    }

    /// The fetched tip of the upstream that the branch would move to; HEAD itself when the branch
    /// has it already. Throws when the two have diverged.
    func fastForwardTarget(_ repository: Repository) throws -> ObjectID {
        let merge = "refs/heads/\(remoteBranch)"
        guard let tracking = repository.trackingReference(remote: remote, for: merge),
              let target = repository.resolve(tracking) else {
            throw MSGitError(.invalidArgument, "couldn't find remote ref \(merge) on '\(remote)'")
        }
        guard let current = repository.commit(for: "HEAD") else { return target }
        if current == target || repository.isAncestor(target, of: current) { return current }
        guard repository.isAncestor(current, of: target) else {
            throw MSGitError(.notFastForward, "Not possible to fast-forward, aborting.",
                             hint: "'\(branch)' and '\(remote)/\(remoteBranch)' have diverged, and msgit does not merge; "
                                 + "integrate them with git (merge or rebase), or start over from the remote's branch")
        }
        return target
    }

    /// Fast-forwards the branch and its work tree to the fetched tip of the upstream.
    func fastForward(_ repository: Repository, recordLFS: Bool, reporter: ProgressReporter) throws -> Moved {
        guard let root = repository.workingDirectory else { throw MSGitError(.invalidArgument, "no work tree") }
        try WorkTreeUpdate.undoInterruptedMove(repository)
        let current = repository.commit(for: "HEAD")
        let target = try fastForwardTarget(repository)
        if let current, current == target {
            return Moved(previous: current, head: current, upToDate: true, root: root)
        }
        reporter.update { $0.phase = .checkingOut }
        _ = try WorkTreeUpdate.move(repository, from: current, to: target, action: .merge,
                                    recordLFS: recordLFS) { completed, total in
            reporter.update {
                $0.checkedOutFiles = completed
                $0.totalFiles = total
            }
        }
        let message = current == nil ? "pull: initial pull" : "pull: Fast-forward"
        try repository.createReference("refs/heads/\(branch)", target: target, force: true, message: message)
        UpdateJournal.remove(repository.gitDirectory)
        return Moved(previous: current, head: target, upToDate: false, root: root)
    }
}
