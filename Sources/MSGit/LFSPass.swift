import Foundation
import GitCore
import HTTP
import LFS

/// The LFS pass of an operation: what git knows, around the LFS layer's `WorkTreeFill`. It plans
/// (the pointers of HEAD's tree whose path has `filter=lfs`, the endpoint, the patterns), has the
/// fill fetch and place them, and settles the index.
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
    /// `commit`: another commit's files than HEAD's (a pull's target), attributes read from it.
    static func plan(repository: Repository, remoteName: String, remoteURL: RemoteURL, options: LFSOptions,
                     only: Set<String>? = nil, beforeCheckout: Bool = false, commit: ObjectID? = nil) throws -> Plan {
        let beforeCheckout = beforeCheckout || commit != nil
        let filter = pathFilter(options, repository: repository)
        var files: [LFSFile] = []
        var excluded: [String] = []
        if let head = commit ?? repository.commit(for: "HEAD"), only?.isEmpty != true {
            let attributesFrom = beforeCheckout ? head : nil
            try repository.walkFiles(ofCommit: head, contentLimit: LFSBlob.readLimit) { blob, content in
                guard only?.contains(blob.path) ?? true,
                      let pointer = LFSBlob.file(blob.path, content: content, in: repository, attributesFrom: attributesFrom)
                else { return }
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

    /// The fill of `plan`'s files in this pass's work tree, with its credential, events and
    /// progress, on the client's connections.
    func fill(_ plan: Plan) throws(MSGitError) -> WorkTreeFill {
        WorkTreeFill(root: directory, gitDirectory: plan.gitDirectory, files: plan.files, excludedPaths: plan.excludedPaths,
                     unrefreshed: plan.unrefreshed, endpoint: plan.endpoint, scope: plan.endpoint.flatMap(lfsScope),
                     pool: try client.transferPool(),
                     options: WorkTreeFill.Options(jobs: options.jobs, segmentSize: options.segmentSize, link: options.link,
                                                   sharedStore: plan.sharedStorage),
                     logger: client.logger, events: events, progress: reporter.updateLFS)
    }

    /// Fills the files of `plan` that still hold pointers: the summary, and the files whose index
    /// entries `settle` must refresh. Per-file failures are in the summary; only cancellation throws.
    func run(_ plan: Plan) async throws -> (LFSSummary, resolvedPaths: [String]) {
        let outcome = try await fill(plan).run()
        return (LFSSummary(outcome), outcome.settled)
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

extension LFSSummary {
    init(_ outcome: WorkTreeFill.Outcome) {
        self.init()
        files = outcome.files
        filesExcluded = outcome.excluded
        filesResolved = outcome.placed.count
        objectsDownloaded = outcome.objectsDownloaded
        bytesDownloaded = outcome.bytesDownloaded
        failures = outcome.failures.map { LFSFailure(path: $0.path, oid: $0.oid, reason: $0.reason) }
    }
}
