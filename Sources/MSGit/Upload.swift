import Crypto
import Foundation
import GitCore
import LFS
import Logging

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
    /// Hashing and uploads at once.
    public var jobs = 8

    public init(pathInRepo: String = "", message: String? = nil, branch: String? = nil,
                lfsThreshold: Int64 = 1 << 20, jobs: Int = 8) {
        self.pathInRepo = pathInRepo
        self.message = message
        self.branch = branch
        self.lfsThreshold = lfsThreshold
        self.jobs = jobs
    }
}

public struct UploadResult: Sendable {
    public var url: String
    public var branch: String
    /// The new commit, and the one it was made on (nil for the first commit of a repository).
    public var commit: String
    public var parent: String?
    /// Files in the commit from the folder, and how many of them are stored in LFS.
    public var files: Int
    public var lfsFiles: Int
    /// Whether msgit added patterns to `.gitattributes` for files over the threshold.
    public var attributesChanged: Bool
    public var lfsUploadedObjects: Int
    public var lfsUploadedBytes: Int64
    public var duration: Duration
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
                       progress: ProgressHandler? = nil) async throws(MSGitError) -> UploadResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var remoteURL: RemoteURL?
        var credential: Credential?
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            let remote = try RemoteURL(ShortNames.expand(url))
            remoteURL = remote
            credential = try CredentialResolution(url: remote, client: self, purpose: .write, secrets: secrets).credential
            let files = try UploadScan.files(in: folder, pathInRepo: options.pathInRepo)
            let reporter = ProgressReporter(progress)
            let job = UploadJob(url: remote, scratch: scratch, options: options,
                                authenticator: Authenticator(remote: remote, credential: credential),
                                reporter: reporter, logger: logger)

            // 1. The branch as it is on the hub, and its .gitattributes.
            let fetching = makeOperation()
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
            let committing = makeOperation()
            let finalFiles = commitFiles
            let commit = try await committing.run { try job.commit(finalFiles, on: base, message: message) }

            // 4. LFS objects first, then the branch.
            let items = zip(lfsFiles, pointers).map { UploadItem(pointer: $1, source: $0.url, path: $0.repoPath, commit: commit.hex) }
            let lfs = try await uploadLFS(items, endpoint: Endpoint.resolve(remoteURL: remote.string), remoteURL: remote,
                                          credential: credential, ref: "refs/heads/\(base.branch)", secrets: secrets,
                                          reporter: reporter)
            let pushing = makeOperation()
            try await pushing.run { try job.push(commit, branch: base.branch, operation: pushing) }
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

/// The files of the folder to publish.
enum UploadScan {
    struct File: Sendable {
        var url: URL
        var repoPath: String
        var size: Int64
        var executable: Bool
    }

    /// Regular files under `folder` (not `.git` directories; symbolic links are refused), with their
    /// paths in the repository.
    static func files(in folder: URL, pathInRepo: String) throws -> [File] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MSGitError(.invalidArgument, "'\(folder.path)' is not a directory")
        }
        let prefix = pathInRepo.split(separator: "/").filter { !$0.isEmpty }.joined(separator: "/")
        guard !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." || $0 == ".git" }) else {
            throw MSGitError(.invalidArgument, "invalid --path-in-repo '\(pathInRepo)'")
        }
        var files: [File] = []
        let root = folder.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            if relative == ".git" || relative.hasSuffix("/.git") {
                walker.skipDescendants()
                continue
            }
            let path = root + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                continue
            case S_IFREG:
                let repoPath = prefix.isEmpty ? relative : prefix + "/" + relative
                files.append(File(url: URL(fileURLWithPath: path), repoPath: repoPath, size: Int64(st.st_size),
                                  executable: st.st_mode & 0o100 != 0))
            default:
                throw MSGitError(.invalidArgument, "'\(path)' is not a regular file (symbolic links and devices are not uploaded)")
            }
        }
        guard !files.isEmpty else { throw MSGitError(.invalidArgument, "'\(folder.path)' has no files to upload") }
        return files.sorted { $0.repoPath < $1.repoPath }
    }

    /// The LFS pointers of `files`, hashed `jobs` at a time on threads of their own.
    static func hash(_ files: [File], jobs: Int) async throws -> [Pointer] {
        try await withThrowingTaskGroup(of: (Int, Pointer).self) { group in
            var next = 0
            func add() {
                guard next < files.count else { return }
                let (index, file) = (next, files[next])
                next += 1
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        DispatchQueue.global().async {
                            continuation.resume(with: Result { (index, try pointer(for: file.url)) })
                        }
                    }
                }
            }
            for _ in 0..<max(1, jobs) { add() }
            var pointers = [Pointer?](repeating: nil, count: files.count)
            while let (index, pointer) = try await group.next() {
                pointers[index] = pointer
                add()
            }
            return pointers.map { $0! }
        }
    }

    static func pointer(for file: URL) throws -> Pointer {
        var hasher = SHA256()
        var size: Int64 = 0
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MSGitError(.io, "cannot read '\(file.path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw MSGitError(.io, "cannot read '\(file.path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Pointer(oid: hex, size: size)!
    }
}

/// The git side of an upload, in a temporary bare repository.
struct UploadJob: Sendable {
    let url: RemoteURL
    let scratch: URL
    let options: UploadOptions
    let authenticator: Authenticator
    let reporter: ProgressReporter
    let logger: Logger

    struct Base: Sendable {
        var branch: String
        var parent: ObjectID?
        var attributes: String
    }

    private func open(_ operation: GitOperation) throws -> (Repository, Remote) {
        let repository = FileManager.default.fileExists(atPath: scratch.path)
            ? try Repository.open(at: scratch) : try Repository.create(at: scratch, bare: true)
        let remote = try repository.anonymousRemote(
            url: url.string, callbacks: makeCallbacks(authenticator: authenticator, reporter: reporter, logger: logger),
            operation: operation)
        return (repository, remote)
    }

    /// Fetches the target branch (or the default branch a new one starts from).
    func fetchBase(operation: GitOperation) throws -> Base {
        let (repository, remote) = try open(operation)
        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let branches = Set(heads.map(\.name).filter { $0.hasPrefix("refs/heads/") })
        let remoteHEAD = heads.first { $0.name == "HEAD" }?.symbolicTarget.flatMap { branches.contains($0) ? $0 : nil }
        let defaultBranch = remoteHEAD ?? (branches.contains("refs/heads/master") ? "refs/heads/master"
            : branches.contains("refs/heads/main") ? "refs/heads/main" : branches.sorted().first)
        let branch = options.branch.map { $0.hasPrefix("refs/heads/") ? String($0.dropFirst(11)) : $0 }
            ?? defaultBranch.map { String($0.dropFirst(11)) } ?? "master"
        guard Refspec("refs/heads/\(branch):refs/heads/\(branch)", fetch: false) != nil else {
            throw MSGitError(.invalidArgument, "invalid branch name '\(branch)'")
        }
        let from = branches.contains("refs/heads/\(branch)") ? "refs/heads/\(branch)" : defaultBranch
        guard let from else { return Base(branch: branch, parent: nil, attributes: "") }
        _ = try remote.fetch(refspecs: ["+\(from):refs/remotes/origin/base"], tags: .none)
        guard let parent = repository.resolve("refs/remotes/origin/base") else {
            throw MSGitError(.git, "the fetch of \(from) brought nothing")
        }
        let attributes = repository.fileContent(".gitattributes", in: parent).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Base(branch: branch, parent: parent, attributes: attributes)
    }

    func commit(_ files: [CommitFile], on base: Base, message: String) throws -> ObjectID {
        let repository = try Repository.open(at: scratch)
        let env = ProcessInfo.processInfo.environment
        let author = env["GIT_AUTHOR_NAME"].flatMap { name in env["GIT_AUTHOR_EMAIL"].map { (name, $0) } }
        return try repository.commit(files: files, parent: base.parent, message: message, author: author)
    }

    /// Pushes the commit to the branch, without forcing: a branch that moved since the fetch refuses it.
    func push(_ commit: ObjectID, branch: String, operation: GitOperation) throws {
        let (repository, remote) = try open(operation)
        try repository.createReference("refs/heads/\(branch)", target: commit, force: true, message: "msgit upload")
        let outcome = try remote.push(refspecs: ["refs/heads/\(branch):refs/heads/\(branch)"])
        if !outcome.rejections.isEmpty {
            var error = MSGitError(.pushRejected, "failed to push the upload to '\(url)' \(branch)",
                                   hint: "the branch moved while uploading; run the upload again")
            error.rejectedRefs = outcome.rejections
            throw error
        }
    }
}

/// Sizes as people write them.
public enum ByteSize {
    /// "1048576", "500KB", "10MiB", "1.5GB", "2M" -> bytes; nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1000),
                                         ("MB", 1e6), ("GB", 1e9), ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824),
                                         ("B", 1)]
        for (suffix, factor) in units where trimmed.uppercased().hasSuffix(suffix.uppercased()) {
            guard let number = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  number >= 0, number * factor < 9e18 else { return nil }
            return Int64(number * factor)
        }
        return Int64(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }
}
