import Foundation
import GitCore
import LFS

/// A path that is not clean, as `git status --short` shows it.
public struct FileStatus: Sendable, Equatable, Codable {
    /// The path in the work tree, relative to its root, as it is now (after a rename, the new one).
    public var path: String
    /// The path before a rename staged in the index.
    public var originalPath: String?
    /// git's first status letter: the index against HEAD (`M`, `A`, `D`, `R`, `T`, `U`, `?` for
    /// untracked, a space for unchanged).
    public var index: String
    /// git's second status letter: the work tree against the index (`M`, `D`, `T`, `U`, `?`, or a
    /// space).
    public var workTree: String

    /// A status with every field given; `originalPath` nil when no rename is staged.
    public init(path: String, originalPath: String? = nil, index: String, workTree: String) {
        self.path = path
        self.originalPath = originalPath
        self.index = index
        self.workTree = workTree
    }

    /// The line of `git status --short`: "XY path" (or "XY old -> new").
    public var shortLine: String { shortLine(quotingNonASCII: true) }

    /// With `core.quotePath` false, git leaves bytes outside ASCII as they are.
    public func shortLine(quotingNonASCII: Bool) -> String {
        "\(index)\(workTree) " + (originalPath.map { "\(Self.quoted($0, nonASCII: quotingNonASCII)) -> " } ?? "")
            + Self.quoted(path, nonASCII: quotingNonASCII)
    }

    /// A path as `git status` prints it: in double quotes, with C escapes, when it holds a space,
    /// a double quote, a backslash, a control character or (unless told otherwise) a byte outside
    /// ASCII.
    static func quoted(_ path: String, nonASCII: Bool = true) -> String {
        func needs(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || (nonASCII && byte >= 0x80) }
        guard path.utf8.contains(where: needs) else { return path }
        var out: [UInt8] = [0x22]
        let named: [UInt8: UInt8] = [0x07: 0x61, 0x08: 0x62, 0x09: 0x74, 0x0A: 0x6E, 0x0B: 0x76, 0x0C: 0x66, 0x0D: 0x72,
                                     0x22: 0x22, 0x5C: 0x5C]
        for byte in path.utf8 {
            if let letter = named[byte] {
                out += [0x5C, letter]
            } else if byte != 0x20 && needs(byte) {
                out.append(0x5C)
                out += Array(String(byte, radix: 8).leftPadded(to: 3).utf8)
            } else {
                out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The state of a work tree.
public struct RepositoryStatus: Sendable, Codable {
    /// The current branch (short name), nil when HEAD is detached.
    public var branch: String?
    /// The commit HEAD points to; nil on an unborn branch.
    public var head: String?
    /// The branch's upstream ("origin/main"); nil when it has none.
    public var upstream: String?
    /// Commits on the branch that its upstream lacks; 0 without an upstream.
    public var ahead: Int
    /// Commits on the upstream that the branch lacks, as last fetched; 0 without an upstream.
    public var behind: Int
    /// Every path that is not clean, in git's order: tracked files, then untracked ones.
    public var files: [FileStatus]
    /// LFS files of HEAD that hold their pointer rather than their content (`msgit lfs pull`).
    public var lfsPointers: [String]
    /// `core.quotePath`: whether paths with bytes outside ASCII are quoted (git's default).
    public var quotePath: Bool

    /// A status with every field given; `branch`, `head` and `upstream` nil as for a detached HEAD, an
    /// unborn branch and a branch without an upstream.
    public init(branch: String? = nil, head: String? = nil, upstream: String? = nil, ahead: Int, behind: Int,
                files: [FileStatus], lfsPointers: [String], quotePath: Bool) {
        self.branch = branch
        self.head = head
        self.upstream = upstream
        self.ahead = ahead
        self.behind = behind
        self.files = files
        self.lfsPointers = lfsPointers
        self.quotePath = quotePath
    }
}

extension GitClient {
    /// What `git status` would say of the repository at `directory`, with git-lfs's view of LFS
    /// files (content that matches its pointer is clean), and the LFS files that are still pointers.
    /// Nothing leaves the machine.
    public func status(in directory: URL) async throws(MSGitError) -> RepositoryStatus {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                guard let root = repository.workingDirectory else {
                    throw MSGitError(.invalidArgument, "'\(directory.path)' is a bare repository: status needs a work tree")
                }
                // git lists changes to tracked files first, then untracked files, each in path order.
                let entries = try LFSAwareStatus.status(of: repository)
                let ordered = entries.filter { $0.staged != .untracked } + entries.filter { $0.staged == .untracked }
                let files = ordered.map { entry in
                    FileStatus(path: entry.path, originalPath: entry.originalPath,
                               index: entry.staged.map { String($0.rawValue) } ?? " ",
                               workTree: entry.unstaged.map { String($0.rawValue) } ?? " ")
                }
                let head = repository.commit(for: "HEAD")
                let branch = repository.headReferenceName.flatMap {
                    $0.hasPrefix("refs/heads/") ? String($0.dropFirst("refs/heads/".count)) : nil
                }
                var upstream: String?
                var (ahead, behind) = (0, 0)
                if let branch, let remote = repository.config("branch.\(branch).remote"),
                   let merge = repository.config("branch.\(branch).merge"),
                   let tracking = repository.trackingReference(remote: remote, for: merge) {
                    upstream = tracking.hasPrefix("refs/remotes/") ? String(tracking.dropFirst("refs/remotes/".count)) : tracking
                    if let head, let theirs = repository.resolve(tracking) {
                        (ahead, behind) = try repository.aheadBehind(local: head, upstream: theirs)
                    }
                }
                var pointers: [String] = []
                if head != nil {
                    let workTree = WorkTree(root: root, store: ObjectStore(gitDirectory: repository.gitDirectory))
                    try repository.walkFiles(of: "HEAD", contentLimit: LFSBlob.readLimit) { blob, content in
                        guard let pointer = LFSBlob.file(blob.path, content: content, in: repository),
                              workTree.state(of: LFSFile(path: blob.path, pointer: pointer)) == .pointer else { return }
                        pointers.append(blob.path)
                    }
                }
                let quotePath = !["false", "no", "off", "0"].contains(repository.config("core.quotepath")?.lowercased() ?? "")
                return RepositoryStatus(branch: branch, head: head?.hex, upstream: upstream, ahead: ahead, behind: behind,
                                        files: files, lfsPointers: pointers, quotePath: quotePath)
            }
        } catch {
            throw MSGitError.from(error)
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
