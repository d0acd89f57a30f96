import Foundation
import GitCore
import LFS

/// Where an upload goes in the repository, how it is committed, and which files go to LFS.
public struct UploadOptions: Sendable {
    /// Where the folder goes in the repository ("" for the root).
    public var pathInRepo = ""
    /// The commit message (default "Upload folder using msgit").
    public var message: String?
    /// The branch to commit to (default: the remote's default branch, else master). A branch that
    /// does not exist yet starts from the default branch, or is the first commit of an empty repository.
    public var branch: String?
    /// Files larger than this are stored in LFS even where no `filter=lfs` pattern says so; a
    /// pattern for each is added to `.gitattributes`.
    public var lfsThreshold: Int64 = 1 << 20
    /// Files hashed at once. The LFS uploads do not follow it: their number is sized to the round
    /// trip to the storage host, from 8 to 64 (`InFlight.transfers`).
    public var jobs = 8

    /// The defaults upload to the root of the default branch, with files over 1 MiB in LFS and 8 files
    /// hashed at once.
    public init(pathInRepo: String = "", message: String? = nil, branch: String? = nil,
                lfsThreshold: Int64 = 1 << 20, jobs: Int = 8) {
        self.pathInRepo = pathInRepo
        self.message = message
        self.branch = branch
        self.lfsThreshold = lfsThreshold
        self.jobs = jobs
    }
}

/// The commit an upload made and pushed, and what it stored in LFS.
public struct UploadResult: Sendable {
    /// The repository's URL, without userinfo.
    public var url: String
    /// The branch the commit was pushed to (short name).
    public var branch: String
    /// The new commit.
    public var commit: String
    /// The commit the new one was made on; nil for the first commit of an empty repository.
    public var parent: String?
    /// Files of the folder in the commit.
    public var files: Int
    /// Of `files`, those committed as LFS pointers.
    public var lfsFiles: Int
    /// Whether msgit added patterns to `.gitattributes` for files over the threshold.
    public var attributesChanged: Bool
    /// LFS objects uploaded; objects the server had already are not counted.
    public var lfsUploadedObjects: Int
    /// Bytes of those LFS objects.
    public var lfsUploadedBytes: Int64
    /// The whole operation: fetch of the branch, hashing, LFS uploads and push.
    public var duration: Duration

    /// A result with every field given; `parent` nil as for the first commit of a repository.
    public init(url: String, branch: String, commit: String, parent: String? = nil, files: Int, lfsFiles: Int,
                attributesChanged: Bool, lfsUploadedObjects: Int, lfsUploadedBytes: Int64, duration: Duration) {
        self.url = url
        self.branch = branch
        self.commit = commit
        self.parent = parent
        self.files = files
        self.lfsFiles = lfsFiles
        self.attributesChanged = attributesChanged
        self.lfsUploadedObjects = lfsUploadedObjects
        self.lfsUploadedBytes = lfsUploadedBytes
        self.duration = duration
    }
}

extension GitClient {
    /// Publishes `folder` as one commit on a branch of the repository at `url`, the way training
    /// jobs publish a model, without a clone of the LFS content already there: only the branch's
    /// history is fetched (into a temporary bare repository that is removed afterwards).
    ///
    /// Files matching the repository's `filter=lfs` patterns, and files over `lfsThreshold`, are
    /// stored as LFS objects and committed as pointers; the rest as ordinary blobs. The LFS objects
    /// are uploaded first, then the commit is pushed. If the branch moved meanwhile, the push is
    /// rejected (`.pushRejected`) and nothing is overwritten.
    public func upload(folder: URL, to url: String, options: UploadOptions = UploadOptions(),
                       progress: ProgressHandler? = nil,
                       events handler: LFSEventHandler? = nil) async throws(MSGitError) -> UploadResult {
        try await operation("upload", events: handler) { events throws(MSGitError) in
            try await performUpload(folder: folder, to: try RemoteURL.resolving(url), options: options, progress: progress,
                                    events: events)
        }
    }

    /// `upload` to a URL already parsed.
    public func upload(folder: URL, to url: RemoteURL, options: UploadOptions = UploadOptions(),
                       progress: ProgressHandler? = nil,
                       events handler: LFSEventHandler? = nil) async throws(MSGitError) -> UploadResult {
        try await operation("upload", events: handler) { events throws(MSGitError) in
            try await performUpload(folder: folder, to: url, options: options, progress: progress, events: events)
        }
    }

    private func performUpload(folder: URL, to remote: RemoteURL, options: UploadOptions,
                               progress: ProgressHandler?, events: LFSEvents?) async throws(MSGitError) -> UploadResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var remoteURL: RemoteURL?
        var credential: Credential?
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            remoteURL = remote
            credential = try CredentialResolution(url: remote, client: self, purpose: .write, secrets: secrets).credential
            let files = try UploadScan.files(in: folder, pathInRepo: options.pathInRepo)
            let reporter = ProgressReporter(progress)
            let job = UploadJob(url: remote, scratch: scratch, options: options,
                                authenticator: Authenticator(remote: remote, credential: credential),
                                reporter: reporter, logger: logger)

            // 1. The branch as it is on the hub, and its .gitattributes.
            let fetching = try makeOperation()
            let base = try await fetching.run { try job.fetchBase(operation: fetching) }

            // 2. Which files go to LFS; hash those (off the concurrency pool).
            var attributesText = base.attributes
            if options.pathInRepo.isEmpty, let own = files.first(where: { $0.repoPath == ".gitattributes" }) {
                attributesText = (try? String(contentsOf: own.url, encoding: .utf8)) ?? attributesText
            }
            let attributes = LFSAttributes(attributesText)
            var addedLines: [String] = []
            var lfsFiles: [UploadScan.File] = []
            var plainFiles: [UploadScan.File] = []
            for file in files where file.repoPath != ".gitattributes" || !options.pathInRepo.isEmpty {
                if attributes.isLFS(file.repoPath) {
                    lfsFiles.append(file)
                } else if file.size > options.lfsThreshold {
                    lfsFiles.append(file)
                    addedLines.append(LFSAttributes.trackLine(for: file.repoPath))
                } else {
                    plainFiles.append(file)
                }
            }
            let pointers = try await UploadScan.hash(lfsFiles, jobs: options.jobs)

            // 3. The commit.
            var commitFiles = plainFiles.map { CommitFile(path: $0.repoPath, executable: $0.executable, content: .file($0.url)) }
            commitFiles += zip(lfsFiles, pointers).map {
                CommitFile(path: $0.repoPath, executable: $0.executable, content: .data($1.data))
            }
            let ownAttributes = options.pathInRepo.isEmpty && files.contains { $0.repoPath == ".gitattributes" }
            if !addedLines.isEmpty || ownAttributes {
                var text = attributesText
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
                text += addedLines.map { $0 + "\n" }.joined()
                commitFiles.append(CommitFile(path: ".gitattributes", content: .data(Data(text.utf8))))
            }
            let message = options.message ?? (options.pathInRepo.isEmpty ? "Upload folder using msgit"
                : "Upload \(options.pathInRepo) using msgit")
            let committing = try makeOperation()
            let finalFiles = commitFiles
            let commit = try await committing.run { try job.commit(finalFiles, on: base, message: message) }

            // 4. LFS objects first, then the branch.
            let items = zip(lfsFiles, pointers).map { UploadItem(pointer: $1, source: $0.url, path: $0.repoPath, commit: commit.hex) }
            let lfs = try await uploadLFS(items, endpoint: Endpoint.resolve(remoteURL: remote.string), remoteURL: remote,
                                          credential: credential, ref: "refs/heads/\(base.branch)", secrets: secrets,
                                          reporter: reporter, events: events)
            let pushing = try makeOperation()
            try await pushing.run { try job.push(commit, branch: base.branch, operation: pushing) }
            await tell(credential, for: remote, accepted: true)
            reporter.finish { $0.phase = .done }
            logger.info("uploaded \(files.count) files (\(lfsFiles.count) in LFS) to \(remote) \(base.branch) as \(commit.hex)")
            return UploadResult(url: remote.string, branch: base.branch, commit: commit.hex, parent: base.parent?.hex,
                                files: files.count, lfsFiles: lfsFiles.count, attributesChanged: !addedLines.isEmpty,
                                lfsUploadedObjects: lfs.uploaded, lfsUploadedBytes: lfs.uploadedBytes,
                                duration: ContinuousClock.now - start)
        } catch {
            throw await explain(error, url: remoteURL, credential: credential)
        }
    }
}
