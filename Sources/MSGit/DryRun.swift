import Foundation
import GitCore
import LFS
import Synchronization

/// What an operation would download and write, found without downloading an LFS object or
/// writing to a work tree: a plan before the bytes (`--dry-run`), as git-lfs's `fetch --dry-run`
/// and `hf download --dry-run` give one. A scheduler sizes its jobs with it.
public struct DownloadPlan: Sendable {
    /// The repository URL, without userinfo.
    public var url: String
    /// The commit whose files these are (the clone's HEAD, the pull's target, HEAD for `lfs pull`);
    /// nil for an empty repository.
    public var commit: String?
    /// Bytes of git objects the dry run received to read the tree (a clone's is its whole history,
    /// fetched into a temporary directory and removed; a pull's is its fetch); 0 for `lfs pull`.
    public var gitBytes: UInt64
    /// Each LFS file's action, the objects and bytes to download, and the room needed beside what
    /// is free (for a clone, its git objects included).
    public var lfs: WorkTreeFill.Preview

    /// A plan with every field given; `gitBytes` 0 and an empty preview as for an `lfs pull` with
    /// nothing to do.
    public init(url: String, commit: String?, gitBytes: UInt64 = 0, lfs: WorkTreeFill.Preview = WorkTreeFill.Preview()) {
        self.url = url
        self.commit = commit
        self.gitBytes = gitBytes
        self.lfs = lfs
    }
}

extension GitClient {
    /// What `clone` would download into `directory`, with nothing left behind: the history is
    /// fetched into a temporary directory (to read the tree and its pointers), which is removed;
    /// no LFS object is downloaded. The directory must be one `clone` would accept.
    public func planClone(_ url: String, into directory: URL? = nil, options: CloneOptions = CloneOptions(),
                          lfs: LFSOptions = LFSOptions()) async throws(MSGitError) -> DownloadPlan {
        try await operation("clone_plan") { _ throws(MSGitError) in
            try await performPlanClone(try RemoteURL.resolving(url), into: directory, options: options, lfs: lfs)
        }
    }

    /// What `pull` would download and write: the fetch runs (as `git fetch` would, moving the
    /// remote-tracking branch), the branch and its work tree do not move, and no LFS object is
    /// downloaded. Throws as `pull` would when the branch cannot be fast-forwarded.
    public func planPull(in directory: URL, remote: String? = nil, branch: String? = nil,
                         lfs options: LFSOptions = LFSOptions()) async throws(MSGitError) -> DownloadPlan {
        try await operation("pull_plan") { _ throws(MSGitError) in
            try await performPlanPull(in: directory, remote: remote, branch: branch, options: options)
        }
    }

    /// What `lfsPull` would download and write, read from the repository alone: no request at all.
    public func planLFSPull(in directory: URL, remote: String? = nil,
                            lfs options: LFSOptions = LFSOptions()) async throws(MSGitError) -> DownloadPlan {
        do {
            let remote = try await RemoteSetup.remoteName(remote, directory: directory)
            let (plan, root, url) = try await GitOperation().run { () throws -> (LFSPass.Plan, URL, String) in
                let repository = try RemoteSetup.openRepository(directory)
                guard let root = repository.workingDirectory else {
                    throw MSGitError(.invalidArgument, "'\(directory.path)' is a bare repository: lfs pull needs a work tree")
                }
                let configured = repository.config("remote.\(remote).url") ?? remote
                let url = try RemoteURL(ShortNames.expand(configured))
                return (try LFSPass.plan(repository: repository, remoteName: remote, remoteURL: url, options: options), root,
                        url.string)
            }
            let head = try await GitOperation().run { try RemoteSetup.openRepository(directory).commit(for: "HEAD")?.hex }
            let preview = try previewFill(plan, root: root, options: options, checkedOut: true)
            return DownloadPlan(url: url, commit: head, lfs: preview)
        } catch {
            throw MSGitError.from(error)
        }
    }

    private func performPlanClone(_ remoteURL: RemoteURL, into directory: URL?, options: CloneOptions,
                                  lfs lfsOptions: LFSOptions) async throws(MSGitError) -> DownloadPlan {
        let secrets = SecretScope()
        defer { secrets.end() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-dry-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var credential: Credential?
        do {
            credential = try CredentialResolution(url: remoteURL, client: self, secrets: secrets).credential
            let destination = directory ?? URL(fileURLWithPath: remoteURL.humanishName + (options.bare ? ".git" : ""),
                                               isDirectory: true)
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: destination.path), !entries.isEmpty {
                throw MSGitError(.invalidArgument,
                                 "destination path '\(destination.path)' already exists and is not an empty directory")
            }
            let captured = Mutex<LFSPass.Plan?>(nil)
            let operation = try makeOperation()
            var job = CloneJob(url: remoteURL, directory: scratch, options: CloneOptions(branch: options.branch,
                                                                                      revision: options.revision),
                               lfs: lfsOptions, authenticator: Authenticator(remote: remoteURL, credential: credential),
                               reporter: ProgressReporter(nil), operation: operation, logger: logger,
                               beforeCheckout: { plan in captured.withLock { $0 = plan } })
            job.stopsBeforeCheckout = true
            let dryRun = job
            let cloned = try await operation.run { try dryRun.run() }
            await tell(credential, for: remoteURL, accepted: true)
            var preview = WorkTreeFill.Preview()
            if let plan = captured.withLock({ $0 }), !options.bare {
                preview = try previewFill(plan, root: destination, options: lfsOptions, checkedOut: false)
            }
            preview.bytesNeeded = preview.bytesNeeded.saturatingAdd(Int64(clamping: cloned.receivedBytes))
            preview.bytesAvailable = WorkTreeFill.Preview.bytesAvailable(near: destination)
            return DownloadPlan(url: remoteURL.string, commit: cloned.head, gitBytes: cloned.receivedBytes, lfs: preview)
        } catch {
            throw await explain(error, url: remoteURL, credential: credential)
        }
    }

    private func performPlanPull(in directory: URL, remote: String?, branch: String?,
                                 options: LFSOptions) async throws(MSGitError) -> DownloadPlan {
        let secrets = SecretScope()
        defer { secrets.end() }
        var setup: RemoteSetup?
        do {
            let upstream = try await GitOperation().run { try Upstream.find(directory, remote: remote, branch: branch) }
            let loaded = try await RemoteSetup.load(directory: directory, remote: upstream.remote, client: self,
                                                    secrets: secrets)
            setup = loaded
            let fetched = try await runFetch(loaded, directory: directory, remote: upstream.remote,
                                             reporter: ProgressReporter(nil))
            await tell(loaded.resolution.credential, for: loaded.url, accepted: true)
            let (target, plan, root) = try await GitOperation().run { () throws -> (ObjectID, LFSPass.Plan?, URL) in
                let repository = try RemoteSetup.openRepository(directory)
                let target = try upstream.fastForwardTarget(repository)
                let root = repository.workingDirectory ?? directory
                let current = repository.commit(for: "HEAD")
                guard options.enabled, target != current else { return (target, nil, root) }
                let changed = Set(try repository.changedFiles(from: current, to: target))
                return (target, try LFSPass.plan(repository: repository, remoteName: upstream.remote, remoteURL: loaded.url,
                                                 options: options, only: changed, commit: target), root)
            }
            let preview = try plan.map { try previewFill($0, root: root, options: options, checkedOut: false) }
            return DownloadPlan(url: loaded.url.string, commit: target.hex, gitBytes: fetched.progress.receivedBytes,
                                lfs: preview ?? WorkTreeFill.Preview())
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }

    /// The preview of `plan`'s fill in `root` (no credential: a preview makes no request).
    private func previewFill(_ plan: LFSPass.Plan, root: URL, options: LFSOptions, checkedOut: Bool) throws -> WorkTreeFill.Preview {
        WorkTreeFill(root: root, gitDirectory: plan.gitDirectory, files: plan.files, excludedPaths: plan.excludedPaths,
                     endpoint: plan.endpoint, scope: nil, pool: try transferPool(),
                     options: WorkTreeFill.Options(jobs: options.jobs, segmentSize: options.segmentSize, link: options.link,
                                                   sharedStore: plan.sharedStorage),
                     logger: logger).preview(checkedOut: checkedOut)
    }
}

/// What mirroring one repository would fetch: references to change and LFS objects to download.
public struct MirrorPlan: Sendable {
    /// The repository URL, without userinfo.
    public var url: String
    /// Where its mirror is or would be.
    public var path: URL?
    /// References the fetch would create, move or delete in the mirror.
    public var refsChanged: Int
    /// The LFS objects of the mirror's scope, each named by one path that holds it: `.download`
    /// or `.fromStore` (in the mirror's store or the shared one already); the totals and the room.
    public var plan: DownloadPlan?
    /// Why there is no plan.
    public var error: MSGitError?

    /// A plan with every field given; `plan` nil and `error` set as for a repository that could not be
    /// reached.
    public init(url: String, path: URL? = nil, refsChanged: Int = 0, plan: DownloadPlan? = nil, error: MSGitError? = nil) {
        self.url = url
        self.path = path
        self.refsChanged = refsChanged
        self.plan = plan
        self.error = error
    }
}

extension GitClient {
    /// What `mirror` would fetch for each entry, `jobs` at a time, with no mirror changed: each
    /// repository's history is fetched into a temporary repository (one that borrows an existing
    /// mirror's objects, so only what is new comes), its LFS objects listed against the stores,
    /// and the temporary repository removed. Never throws: each plan says what happened.
    public func planMirror(_ entries: [String], into root: URL, jobs: Int = 4,
                           options: MirrorOptions = MirrorOptions()) async -> [MirrorPlan] {
        await withTaskGroup(of: MirrorPlan.self) { group in
            var pending = entries[...]
            func addNext() {
                guard let entry = pending.popFirst() else { return }
                group.addTask { await self.planMirror(entry, into: root, options: options) }
            }
            for _ in 0..<max(1, jobs) { addNext() }
            var plans: [MirrorPlan] = []
            while let plan = await group.next() {
                plans.append(plan)
                addNext()
            }
            return plans
        }
    }

    /// `planMirror` of one entry.
    public func planMirror(_ entry: String, into root: URL, options: MirrorOptions = MirrorOptions()) async -> MirrorPlan {
        var result = MirrorPlan(url: Manifest.identity(entry).redacted)
        let secrets = SecretScope()
        defer { secrets.end() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-dry-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var credential: Credential?
        var remote: RemoteURL?
        do {
            let url = try RemoteURL(entry)
            remote = url
            result.url = url.string
            credential = try CredentialResolution(url: url, client: self, secrets: secrets).credential
            let relative = try MirrorJob.relativeLocation(of: url)
            let mirror = root.appendingPathComponent(relative, isDirectory: true)
            result.path = mirror
            let job = MirrorJob(url: url, root: scratch, relative: relative,
                                authenticator: Authenticator(remote: url, credential: credential), logger: logger)
            let operation = try makeOperation()
            let (fetched, lfsPlan) = try await operation.run { () throws -> (MirrorJob.Fetched, MirrorJob.LFSPlan?) in
                let parent = try job.parentDirectory()
                try Self.borrow(mirror, into: job.path)
                let fetched = try job.fetch(in: parent, operation: operation)
                return (fetched, options.lfs == .none ? nil : try job.lfsPlan(options.lfs))
            }
            await tell(credential, for: url, accepted: true)
            result.refsChanged = fetched.changed
            var preview = WorkTreeFill.Preview()
            let store = ObjectStore(gitDirectory: mirror)
            let shared = options.sharedLFSStorage
                ? ObjectStore(root: options.lfsStorage ?? root.appendingPathComponent(".lfs-storage")) : nil
            var seen: Set<String> = []
            for (path, pointer) in lfsPlan?.pointers ?? [] where seen.insert(pointer.oid).inserted {
                let here = store.contains(pointer) || shared?.contains(pointer) == true
                preview.files.append(WorkTreeFill.Preview.File(path: path, oid: pointer.oid, size: pointer.size,
                                                               action: here ? .fromStore : .download))
                if !here {
                    preview.objectsToDownload += 1
                    preview.bytesToDownload = preview.bytesToDownload.saturatingAdd(pointer.size)
                }
            }
            preview.files.sort { $0.path < $1.path }
            preview.bytesNeeded = preview.bytesToDownload.saturatingAdd(Int64(clamping: fetched.receivedBytes))
            preview.bytesAvailable = WorkTreeFill.Preview.bytesAvailable(near: mirror)
            result.plan = DownloadPlan(url: url.string, commit: nil, gitBytes: fetched.receivedBytes, lfs: preview)
        } catch {
            result.error = await explain(error, url: remote, credential: credential)
        }
        return result
    }

    /// Makes `scratch` a bare repository that borrows `mirror`'s objects (git's alternates) and
    /// starts from its references and LFS record, so that a fetch into it brings only what the
    /// mirror lacks and the LFS plan starts where the mirror's last run ended. Nothing of the
    /// mirror is written.
    private static func borrow(_ mirror: URL, into scratch: URL) throws {
        guard let source = try? Repository.open(at: mirror) else { return }
        _ = try Repository.create(at: scratch, bare: true)
        let info = scratch.appendingPathComponent("objects/info", isDirectory: true)
        try FileManager.default.createDirectory(at: info, withIntermediateDirectories: true)
        try Data((mirror.appendingPathComponent("objects").path + "\n").utf8).write(to: info.appendingPathComponent("alternates"))
        // Opened anew, after the alternates are written: libgit2 reads them when it loads the odb.
        let borrowed = try Repository.open(at: scratch)
        for reference in try source.references(matching: "refs/*") {
            try borrowed.createReference(reference.name, target: reference.target, force: true, message: "mirror: dry run")
        }
        if let state = try? Data(contentsOf: MirrorState.file(mirror)) { try state.write(to: MirrorState.file(scratch)) }
    }
}
