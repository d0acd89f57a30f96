import Foundation
import GitCore
import LFS

/// Where a checkout moved HEAD, the branch it made if any, and the LFS files it resolved.
public struct CheckoutResult: Sendable {
    /// The branch checked out (short name); nil when HEAD is detached (a tag or a commit).
    public var branch: String?
    /// The commit HEAD points to now.
    public var head: String
    /// The commit HEAD pointed to before; nil when the branch had no commit yet.
    public var previousHead: String?
    /// `createBranch` made this branch, or it was made to follow a remote branch of that name.
    public var createdBranch: String?
    /// The LFS files the checkout wrote (and any an interrupted update left), resolved.
    public var lfs: LFSSummary
    /// The whole operation, the LFS files included.
    public var duration: Duration

    /// A result with every field given; `branch` nil as for a detached HEAD, `createdBranch` nil when
    /// no branch was made.
    public init(branch: String? = nil, head: String, previousHead: String? = nil, createdBranch: String? = nil,
                lfs: LFSSummary, duration: Duration) {
        self.branch = branch
        self.head = head
        self.previousHead = previousHead
        self.createdBranch = createdBranch
        self.lfs = lfs
        self.duration = duration
    }
}

extension GitClient {
    /// Switches the work tree of the repository at `directory` to `revision`, as `git checkout`
    /// with git-lfs does, then resolves the LFS files the switch wrote (objects in the store are not
    /// downloaded again, so going back to a branch costs nothing).
    ///
    /// `revision` is a local branch; else a branch of `remote`, for which a local branch following
    /// it is made (git's `--guess`); else a tag or a commit (by id, a prefix of one, or an
    /// expression like `HEAD~2`), which leaves HEAD detached. With `createBranch`, a new branch of
    /// that name starts at `revision` (default HEAD) and is checked out.
    ///
    /// Local changes the switch would overwrite, and untracked files in its way, stop it before
    /// anything is written (`.localChanges`); other changes are carried along, as git does.
    ///
    /// `remote`: where a branch is looked for and LFS objects come from; nil: the current branch's
    /// remote, else origin.
    public func checkout(_ revision: String?, in directory: URL, createBranch: String? = nil, remote: String? = nil,
                         lfs options: LFSOptions = LFSOptions(), progress: ProgressHandler? = nil,
                         events handler: LFSEventHandler? = nil) async throws(MSGitError) -> CheckoutResult {
        try await operation("checkout", events: handler) { events throws(MSGitError) in
            try await performCheckout(revision, in: directory, createBranch: createBranch, remote: remote, lfs: options, progress: progress, events: events)
        }
    }

    private func performCheckout(_ revision: String?, in directory: URL, createBranch: String?, remote: String?,
                                 lfs options: LFSOptions, progress: ProgressHandler?, events: LFSEvents?)
        async throws(MSGitError) -> CheckoutResult
    {
        let start = ContinuousClock.now
        let reporter = ProgressReporter(progress)
        do {
            let remote = try await RemoteSetup.remoteName(remote, directory: directory)
            let (switched, plan) = try await GitOperation().run { () -> (Switched, LFSPass.Plan?) in
                let repository = try RemoteSetup.openRepository(directory)
                let target = try CheckoutTarget.resolve(revision, createBranch: createBranch, remote: remote,
                                                        in: repository)
                let switched = try target.switchTo(in: repository, recordLFS: options.enabled, reporter: reporter)
                let pending = PendingLFS.read(repository.gitDirectory)
                guard options.enabled, !pending.isEmpty, let url = repository.config("remote.\(remote).url"),
                      let remoteURL = try? RemoteURL(url) else { return (switched, nil) }
                return (switched, try LFSPass.plan(repository: repository, remoteName: remote, remoteURL: remoteURL,
                                                   options: options, only: pending))
            }
            var summary = LFSSummary()
            if let plan {
                summary = try await resolveLFS(plan, directory: directory, remote: remote, options: options, events: events,
                                               reporter: reporter)
            }
            reporter.finish { $0.phase = .done }
            return CheckoutResult(branch: switched.branch, head: switched.head.hex, previousHead: switched.previous?.hex,
                                  createdBranch: switched.created, lfs: summary, duration: ContinuousClock.now - start)
        } catch {
            throw MSGitError.from(error)
        }
    }

    /// The LFS pass of a checkout: credentials only now that there is something to download.
    private func resolveLFS(_ plan: LFSPass.Plan, directory: URL, remote: String, options: LFSOptions, events: LFSEvents?,
                            reporter: ProgressReporter) async throws -> LFSSummary {
        let secrets = SecretScope()
        defer { secrets.end() }
        let setup = try await RemoteSetup.load(directory: directory, remote: remote, client: self, secrets: secrets)
        let root = try await GitOperation().run { try RemoteSetup.openRepository(directory).workingDirectory ?? directory }
        let pass = LFSPass(client: self, directory: root, remoteName: remote, remoteURL: setup.url,
                           credential: setup.resolution.credential, secrets: secrets, options: options, reporter: reporter, events: events)
        let (summary, resolved) = try await pass.run(plan)
        try await pass.settle(resolved, gitDirectory: plan.gitDirectory)
        return summary
    }
}

/// Where HEAD went.
struct Switched: Sendable {
    var branch: String?
    var head: ObjectID
    var previous: ObjectID?
    var created: String?
}

/// What `checkout` was asked for, resolved against the repository.
struct CheckoutTarget {
    enum Kind {
        /// refs/heads/<name>, existing.
        case branch(String)
        /// A new branch at a commit; `upstream` when it follows a remote branch.
        case newBranch(String, upstream: (remote: String, merge: String)?)
        case detached
    }

    var kind: Kind
    var commit: ObjectID

    static func resolve(_ revision: String?, createBranch: String?, remote: String, in repository: Repository) throws
        -> CheckoutTarget
    {
        if let name = createBranch {
            guard Refspec("refs/heads/\(name):refs/heads/\(name)", fetch: false) != nil, !name.hasPrefix("-") else {
                throw MSGitError(.invalidArgument, "'\(name)' is not a valid branch name")
            }
            guard repository.resolve("refs/heads/\(name)") == nil else {
                throw MSGitError(.invalidArgument, "a branch named '\(name)' already exists")
            }
            let start = revision ?? "HEAD"
            guard let commit = repository.commit(for: start) else {
                throw MSGitError(.invalidArgument, "'\(start)' is not a commit and a branch '\(name)' cannot be created from it")
            }
            return CheckoutTarget(kind: .newBranch(name, upstream: nil), commit: commit)
        }
        guard let revision, !revision.isEmpty else {
            throw MSGitError(.invalidArgument, "name a branch, tag or commit to check out")
        }
        // Branches by their exact names (not revision expressions: "main~1" is no branch).
        let short = revision.hasPrefix("refs/heads/") ? String(revision.dropFirst(11)) : revision
        if repository.resolve("refs/heads/\(short)") != nil, let commit = repository.commit(for: "refs/heads/\(short)") {
            return CheckoutTarget(kind: .branch(short), commit: commit)
        }
        if Refspec("refs/heads/\(short):refs/heads/\(short)", fetch: false) != nil,
           let tracking = repository.trackingReference(remote: remote, for: "refs/heads/\(short)"),
           repository.resolve(tracking) != nil, let commit = repository.commit(for: tracking) {
            return CheckoutTarget(kind: .newBranch(short, upstream: (remote, "refs/heads/\(short)")), commit: commit)
        }
        if let commit = repository.commit(for: "refs/tags/\(revision)") ?? repository.commit(for: revision) {
            return CheckoutTarget(kind: .detached, commit: commit)
        }
        throw MSGitError(.invalidArgument, "'\(revision)' is not a branch, tag or commit of this repository",
                         hint: "fetch first if it is new on the remote: msgit fetch")
    }

    /// Moves the work tree, then HEAD.
    func switchTo(in repository: Repository, recordLFS: Bool, reporter: ProgressReporter) throws -> Switched {
        try WorkTreeUpdate.undoInterruptedMove(repository)
        // Once HEAD is where the move went, the move is over (a refusal wrote nothing either).
        defer { if repository.commit(for: "HEAD") == commit { UpdateJournal.remove(repository.gitDirectory) } }
        let previous = repository.commit(for: "HEAD")
        if previous != commit {
            reporter.update { $0.phase = .checkingOut }
            _ = try WorkTreeUpdate.move(repository, from: previous, to: commit, action: .checkout,
                                        recordLFS: recordLFS) { completed, total in
                reporter.update {
                    $0.checkedOutFiles = completed
                    $0.totalFiles = total
                }
            }
        }
        switch kind {
        case .branch(let name):
            try repository.setHead("refs/heads/\(name)")
            return Switched(branch: name, head: commit, previous: previous)
        case .newBranch(let name, let upstream):
            try repository.createBranch(name, at: commit, message: "branch: Created from \(previous?.hex.prefix(7) ?? "nothing")")
            if let upstream {
                try repository.setConfig("branch.\(name).remote", upstream.remote)
                try repository.setConfig("branch.\(name).merge", upstream.merge)
            }
            try repository.setHead("refs/heads/\(name)")
            return Switched(branch: name, head: commit, previous: previous, created: name)
        case .detached:
            try repository.setHeadDetached(commit)
            return Switched(branch: nil, head: commit, previous: previous)
        }
    }
}
