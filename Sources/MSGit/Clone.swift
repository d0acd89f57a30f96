import Foundation
import GitCore
import LFS
import Logging

public struct CloneOptions: Sendable {
    /// The branch (or tag, which leaves HEAD detached) to check out instead of the remote's HEAD.
    public var branch: String?
    /// A bare repository: no work tree, branches copied to refs/heads as they are on the server.
    public var bare = false
    /// LFS files of the checked-out tree are resolved unless `lfs.enabled` is false.
    public var lfs = LFSOptions()

    public init(branch: String? = nil, bare: Bool = false, lfs: LFSOptions = LFSOptions()) {
        self.branch = branch
        self.bare = bare
        self.lfs = lfs
    }
}

public struct CloneResult: Sendable {
    /// The repository URL, without userinfo.
    public var url: String
    public var directory: URL
    /// The branch checked out (short name); nil when HEAD is detached or the repository is empty.
    public var branch: String?
    /// The commit HEAD points to; nil for an empty repository.
    public var head: String?
    /// The remote has no branches yet.
    public var isEmptyRepository: Bool
    public var receivedObjects: Int
    public var receivedBytes: UInt64
    public var duration: Duration
    /// Things the user should know that did not stop the clone.
    public var warnings: [String]
    /// The LFS files of the checked-out tree; `lfs.failures` lists those left as pointers.
    public var lfs = LFSSummary()

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
    public func clone(_ url: String, into directory: URL? = nil, options: CloneOptions = CloneOptions(),
                      progress: ProgressHandler? = nil) async throws(MSGitError) -> CloneResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        let remoteURL: RemoteURL
        let resolution: CredentialResolution
        do {
            remoteURL = try RemoteURL(ShortNames.expand(url))
            resolution = try CredentialResolution(url: remoteURL, client: self, secrets: secrets)
        } catch {
            throw MSGitError.from(error)
        }
        var warnings: [String] = []
        if let warning = resolution.warning {
            // Returned in the result for the caller to show; logged below warning level so a CLI
            // that prints results does not say it twice.
            logger.info("\(warning)")
            warnings.append(warning)
        }
        let destination = directory
            ?? URL(fileURLWithPath: remoteURL.humanishName + (options.bare ? ".git" : ""), isDirectory: true)
        let created: Destination
        do {
            created = try Destination.prepare(destination)
        } catch {
            throw MSGitError.from(error)
        }

        logger.info("cloning \(remoteURL) into \(destination.path)",
                    metadata: ["credential": "\(resolution.credential?.description ?? "none")"])
        let reporter = ProgressReporter(progress)
        let operation = makeOperation()
        let job = CloneJob(url: remoteURL, directory: destination, options: options,
                           authenticator: Authenticator(remote: remoteURL, credential: resolution.credential),
                           reporter: reporter, operation: operation, logger: logger)
        do {
            var (result, plan) = try await operation.run { try job.run() }
            if let plan, !plan.files.isEmpty || plan.excluded > 0 {
                let pass = LFSPass(client: self, directory: destination, remoteName: "origin", remoteURL: remoteURL,
                                   credential: resolution.credential, secrets: secrets, options: options.lfs,
                                   reporter: reporter)
                let (summary, resolved) = try await pass.run(plan)
                try Task.checkCancellation()
                if !resolved.isEmpty {
                    try await GitOperation().run { try Repository.open(at: destination).refreshIndexStat(paths: resolved) }
                }
                result.lfs = summary
            }
            result.duration = ContinuousClock.now - start
            result.warnings = warnings + result.warnings
            reporter.finish { $0.phase = .done }
            logger.info("cloned \(remoteURL): \(result.receivedObjects) objects, \(result.receivedBytes) bytes")
            return result
        } catch {
            created.discard()
            throw await explain(error, url: remoteURL, credential: resolution.credential)
        }
    }
}

/// The clone's target directory, and how to undo what the clone did to it.
struct Destination {
    let url: URL
    let existed: Bool

    /// Checks that `url` is absent or an empty directory, and creates it if absent.
    static func prepare(_ url: URL) throws -> Destination {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try fm.contentsOfDirectory(atPath: url.path)).isEmpty else {
                throw MSGitError(.invalidArgument,
                                 "destination path '\(url.path)' already exists and is not an empty directory")
            }
            return Destination(url: url, existed: true)
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw MSGitError(.io, "cannot create '\(url.path)': \(error.localizedDescription)")
        }
        return Destination(url: url, existed: false)
    }

    /// Removes what the clone wrote: the directory if the clone made it, else its contents.
    func discard() {
        let fm = FileManager.default
        if existed {
            for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] {
                try? fm.removeItem(at: url.appendingPathComponent(name))
            }
        } else {
            try? fm.removeItem(at: url)
        }
    }
}

/// The synchronous part of a clone, run on the operation's thread.
struct CloneJob: Sendable {
    let url: RemoteURL
    let directory: URL
    let options: CloneOptions
    let authenticator: Authenticator
    let reporter: ProgressReporter
    let operation: GitOperation
    let logger: Logger

    /// Clones, and when LFS is on, plans the LFS pass over the checked-out tree.
    func run() throws -> (CloneResult, LFSPass.Plan?) {
        let repository = try Repository.create(at: directory, bare: options.bare)
        let remote = try repository.createRemote(
            named: "origin", url: url.string,
            fetchRefspec: options.bare ? nil : "+refs/heads/*:refs/remotes/origin/*",
            callbacks: makeCallbacks(authenticator: authenticator, reporter: reporter, logger: logger),
            operation: operation)

        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let remoteHEAD = heads.first { $0.name == "HEAD" }?.symbolicTarget
        let branches = Set(heads.map(\.name).filter { $0.hasPrefix("refs/heads/") })
        let tags = Set(heads.map(\.name).filter { $0.hasPrefix("refs/tags/") && !$0.hasSuffix("^{}") })
        let target = try Self.chooseCheckout(requested: options.branch, remoteHEAD: remoteHEAD, branches: branches, tags: tags)
        logger.debug("remote HEAD: \(remoteHEAD ?? "(none)"), checking out: \(String(describing: target))")

        reporter.update { $0.phase = .receivingObjects }
        let fetched = try remote.fetch(refspecs: options.bare ? ["+refs/heads/*:refs/heads/*"] : nil, tags: .all,
                                       reflogMessage: "clone: from \(url)")

        var warnings: [String] = []
        var checkedOutBranch: String?
        switch target {
        case .empty:
            warnings.append("You appear to have cloned an empty repository.")
            try repository.setHead(remoteHEAD ?? "refs/heads/master")
        case .branch(let name):
            let short = String(name.dropFirst("refs/heads/".count))
            checkedOutBranch = short
            if options.bare {
                try repository.setHead(name)
            } else {
                guard let commit = repository.resolve("refs/remotes/origin/\(short)") else {
                    throw MSGitError(.git, "the fetch did not bring refs/remotes/origin/\(short)")
                }
                try repository.createReference(name, target: commit, force: true, message: "clone: from \(url)")
                try repository.setConfig("branch.\(short).remote", "origin")
                try repository.setConfig("branch.\(short).merge", name)
                try repository.setHead(name)
            }
        case .tag(let name):
            guard let commit = repository.commit(for: name) else {
                throw MSGitError(.git, "the fetch did not bring \(name)")
            }
            try repository.setHeadDetached(commit)
        }

        if !options.bare {
            if let remoteHEAD, branches.contains(remoteHEAD) {
                let short = remoteHEAD.dropFirst("refs/heads/".count)
                try repository.createSymbolicReference("refs/remotes/origin/HEAD", target: "refs/remotes/origin/\(short)",
                                                       force: true, message: "clone: from \(url)")
            }
            if target != .empty {
                reporter.update { $0.phase = .checkingOut }
                try repository.checkoutHead(force: true, newWorkTree: true) { completed, total in
                    reporter.update {
                        $0.checkedOutFiles = completed
                        $0.totalFiles = total
                    }
                }
            }
        }

        let result = CloneResult(
            url: url.string, directory: directory, branch: checkedOutBranch, head: repository.commit(for: "HEAD")?.hex,
            isEmptyRepository: target == .empty, receivedObjects: fetched.progress.receivedObjects,
            receivedBytes: fetched.progress.receivedBytes, duration: .zero, warnings: warnings)
        guard !options.bare, options.lfs.enabled, target != .empty else { return (result, nil) }
        let filter = PathFilter(include: options.lfs.include, exclude: options.lfs.exclude)
        return (result, try LFSPass.plan(repository: repository, remoteName: "origin", remoteURL: url, filter: filter))
    }

    enum CheckoutTarget: Equatable {
        case branch(String)
        case tag(String)
        case empty
    }

    /// `--branch` if given (a branch, else a tag), else the remote's HEAD, else master, main or the
    /// first branch: libgit2 1.5.1 fails outright when the remote HEAD names a missing branch, which
    /// model hubs do have.
    static func chooseCheckout(requested: String?, remoteHEAD: String?, branches: Set<String>, tags: Set<String>) throws
        -> CheckoutTarget
    {
        if let requested {
            let short = requested.hasPrefix("refs/heads/") ? String(requested.dropFirst(11)) : requested
            if branches.contains("refs/heads/\(short)") { return .branch("refs/heads/\(short)") }
            if tags.contains("refs/tags/\(short)") { return .tag("refs/tags/\(short)") }
            throw MSGitError(.invalidArgument, "Remote branch \(requested) not found in upstream origin",
                             hint: branches.isEmpty ? "the repository has no branches"
                                 : "branches: " + branches.sorted().map { String($0.dropFirst(11)) }.joined(separator: ", "))
        }
        if let remoteHEAD, branches.contains(remoteHEAD) { return .branch(remoteHEAD) }
        for name in ["refs/heads/master", "refs/heads/main"] where branches.contains(name) { return .branch(name) }
        if let first = branches.sorted().first { return .branch(first) }
        return .empty
    }
}

/// The libgit2 callbacks every network operation uses: the authenticator, progress, server messages.
func makeCallbacks(authenticator: Authenticator, reporter: ProgressReporter, logger: Logger) -> RemoteCallbacks {
    var callbacks = RemoteCallbacks()
    callbacks.credentials = { try authenticator.answer($0) }
    callbacks.transferProgress = { stats in
        reporter.update {
            $0.phase = stats.receivedObjects < stats.totalObjects || stats.totalDeltas == 0 ? .receivingObjects : .resolvingDeltas
            $0.receivedObjects = stats.receivedObjects
            $0.indexedObjects = stats.indexedObjects
            $0.totalObjects = stats.totalObjects
            $0.receivedBytes = stats.receivedBytes
            $0.indexedDeltas = stats.indexedDeltas
            $0.totalDeltas = stats.totalDeltas
        }
    }
    callbacks.pushTransferProgress = { push in
        reporter.update {
            $0.phase = .pushing
            $0.pushedObjects = push.current
            $0.totalPushObjects = push.total
            $0.pushedBytes = push.bytes
        }
    }
    callbacks.serverMessage = { text in
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where !line.isEmpty {
            logger.trace("remote: \(line)")
        }
    }
    return callbacks
}
