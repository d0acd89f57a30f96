import Foundation
import GitCore
import LFS

/// What `lfsPrune` removed, or would remove with `dryRun`.
public struct LFSPruneResult: Sendable, Codable, Equatable {
    /// The objects no longer needed, by oid.
    public var removed: [String]
    /// The sizes of those objects, added up. Space on disk is freed only where no other link holds
    /// the file (a shared store keeps its own).
    public var removedBytes: Int64
    /// Objects kept because something needs them.
    public var kept: Int
    /// True when nothing was removed: `removed` lists what would have been.
    public var dryRun: Bool

    /// A result with every field given.
    public init(removed: [String], removedBytes: Int64, kept: Int, dryRun: Bool) {
        self.removed = removed
        self.removedBytes = removedBytes
        self.kept = kept
        self.dryRun = dryRun
    }
}

/// A problem `lfsFsck` found.
public struct LFSProblem: Sendable, Codable, Equatable {
    /// "object" (a file of the store) or "file" (a file of the work tree).
    public var kind: String
    /// The oid of an object; the path of a file.
    public var name: String
    /// What is wrong, in a sentence.
    public var reason: String

    /// A problem with every field given; `kind` is "object" or "file".
    public init(kind: String, name: String, reason: String) {
        self.kind = kind
        self.name = name
        self.reason = reason
    }
}

/// What `lfsFsck` checked and found.
public struct LFSFsckResult: Sendable, Codable, Equatable {
    /// Objects of the store whose content was hashed.
    public var objectsChecked: Int
    /// LFS files of HEAD's tree looked at in the work tree.
    public var filesChecked: Int
    /// What is wrong; empty when all is well.
    public var problems: [LFSProblem]

    /// A result with every field given.
    public init(objectsChecked: Int, filesChecked: Int, problems: [LFSProblem]) {
        self.objectsChecked = objectsChecked
        self.filesChecked = filesChecked
        self.problems = problems
    }
}

/// Where a repository's LFS bytes are.
public struct LFSDiskUsage: Sendable, Codable, Equatable {
    /// The objects in `.git/lfs/objects` (each counted once, however many names it has).
    public var storeBytes: Int64
    /// The LFS files of the work tree that hold their content.
    public var workTreeBytes: Int64
    /// Of the work tree's bytes, those that are the store's too: hard links to their objects, and
    /// extents a copy-on-write clone shares with them. A clone made with `--link` or on a file
    /// system that clones has `sharedBytes == workTreeBytes`: the model is on disk once.
    public var sharedBytes: Int64

    /// A usage with every field given, in bytes.
    public init(storeBytes: Int64, workTreeBytes: Int64, sharedBytes: Int64) {
        self.storeBytes = storeBytes
        self.workTreeBytes = workTreeBytes
        self.sharedBytes = sharedBytes
    }
}

extension GitClient {
    /// Removes the objects of `.git/lfs/objects` that nothing needs, as `git lfs prune` does: an
    /// object is needed by the tree of any reference's tip (branches, remote branches, tags), of
    /// HEAD, by the index, or by a commit of a local branch that no remote branch has (unpushed
    /// work, whose objects may exist nowhere else). A shared store's copy is not touched.
    public func lfsPrune(in directory: URL, dryRun: Bool = false) async throws(MSGitError) -> LFSPruneResult {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                let needed = try LFSUpkeep.neededObjects(repository)
                let store = ObjectStore(gitDirectory: repository.gitDirectory)
                var result = LFSPruneResult(removed: [], removedBytes: 0, kept: 0, dryRun: dryRun)
                for (oid, size) in store.objects() {
                    if needed.contains(oid) {
                        result.kept += 1
                        continue
                    }
                    if !dryRun { try store.remove(oid) }
                    result.removed.append(oid)
                    result.removedBytes += size
                }
                return result
            }
        } catch {
            throw MSGitError.from(error)
        }
    }

    /// Verifies every object of the store (SHA-256 and size against its name) and every LFS file of
    /// HEAD's tree in the work tree (a pointer, or exactly its object's content), as `git lfs fsck`
    /// does for objects; nothing leaves the machine and nothing is changed.
    public func lfsFsck(in directory: URL) async throws(MSGitError) -> LFSFsckResult {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                let store = ObjectStore(gitDirectory: repository.gitDirectory)
                var result = LFSFsckResult(objectsChecked: 0, filesChecked: 0, problems: [])
                for (oid, size) in store.objects() {
                    result.objectsChecked += 1
                    guard let pointer = Pointer(oid: oid, size: size), try store.verify(pointer) else {
                        result.problems.append(LFSProblem(kind: "object", name: oid,
                            reason: "its content does not hash to its name (\(store.path(for: oid).path))"))
                        continue
                    }
                }
                guard let root = repository.workingDirectory, repository.commit(for: "HEAD") != nil else { return result }
                let workTree = WorkTree(root: root, store: store)
                try repository.walkFiles(of: "HEAD", contentLimit: LFSBlob.readLimit) { blob, content in
                    guard let pointer = LFSBlob.file(blob.path, content: content, in: repository) else { return }
                    result.filesChecked += 1
                    let file = LFSFile(path: blob.path, pointer: pointer)
                    switch workTree.state(of: file) {
                    case .pointer:
                        return
                    case .resolved where try pointer.matchesContent(of: root.appendingPathComponent(blob.path)):
                        return
                    case .unsafe(let reason):
                        result.problems.append(LFSProblem(kind: "file", name: blob.path, reason: reason))
                    default:
                        let exists = FileManager.default.fileExists(atPath: root.appendingPathComponent(blob.path).path)
                        result.problems.append(LFSProblem(kind: "file", name: blob.path,
                            reason: exists ? "its content is not the object \(pointer.oid) its pointer names (changed or damaged)"
                                : "it is missing from the work tree"))
                    }
                }
                return result
            }
        } catch {
            throw MSGitError.from(error)
        }
    }

    /// The bytes of the store, of the work tree's LFS files, and those the two share.
    public func lfsDiskUsage(in directory: URL) async throws(MSGitError) -> LFSDiskUsage {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                let store = ObjectStore(gitDirectory: repository.gitDirectory)
                var usage = LFSDiskUsage(storeBytes: 0, workTreeBytes: 0, sharedBytes: 0)
                var inodes: Set<UInt64> = []
                for (oid, size) in store.objects() {
                    var st = stat()
                    if stat(store.path(for: oid).path, &st) == 0, inodes.insert(UInt64(st.st_ino)).inserted {
                        usage.storeBytes += size
                    }
                }
                guard let root = repository.workingDirectory, repository.commit(for: "HEAD") != nil else { return usage }
                var seen: Set<String> = []
                try repository.walkFiles(of: "HEAD", contentLimit: LFSBlob.readLimit) { blob, content in
                    guard let pointer = LFSBlob.file(blob.path, content: content, in: repository) else { return }
                    let path = root.appendingPathComponent(blob.path).path
                    var st = stat()
                    guard stat(path, &st) == 0, Int64(st.st_size) == pointer.size, seen.insert(path).inserted else { return }
                    usage.workTreeBytes = usage.workTreeBytes.saturatingAdd(pointer.size)
                    var object = stat()
                    if stat(store.path(for: pointer.oid).path, &object) == 0, object.st_ino == st.st_ino,
                       object.st_dev == st.st_dev {
                        usage.sharedBytes = usage.sharedBytes.saturatingAdd(pointer.size)
                    } else {
                        usage.sharedBytes = usage.sharedBytes.saturatingAdd(min(LFSUpkeep.sharedBytes(path), pointer.size))
                    }
                }
                return usage
            }
        } catch {
            throw MSGitError.from(error)
        }
    }

    /// Turns work-tree files that `--link` made protected links to their objects into files of
    /// their own that may be edited; the stored objects stay as they are. Returns the paths changed.
    public func lfsUnprotect(_ paths: [String], in directory: URL) async throws(MSGitError) -> [String] {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                guard let root = repository.workingDirectory else {
                    throw MSGitError(.invalidArgument, "'\(directory.path)' is a bare repository")
                }
                let workTree = WorkTree(root: root, store: ObjectStore(gitDirectory: repository.gitDirectory))
                var changed: [String] = []
                for path in paths {
                    let relative = LFSUpkeep.relativePath(path, root: root, from: directory)
                    if try workTree.unprotect(relative) { changed.append(relative) }
                }
                try repository.refreshIndexStat(paths: changed)
                return changed
            }
        } catch {
            throw MSGitError.from(error)
        }
    }
}

enum LFSUpkeep {
    /// The oids every reference's tip, HEAD, the index and unpushed commits need.
    static func neededObjects(_ repository: Repository) throws -> Set<String> {
        var needed: Set<String> = []
        func add(_ content: Data?) {
            if let pointer = LFSBlob.object(content) { needed.insert(pointer.oid) }
        }
        var tips = Set(try repository.references(matching: "refs/*").compactMap { repository.commit(for: $0.name) })
        if let head = repository.commit(for: "HEAD") { tips.insert(head) }
        for tip in tips {
            try repository.walkFiles(ofCommit: tip, contentLimit: LFSBlob.readLimit) { _, content in add(content) }
        }
        for entry in try repository.indexEntries() {
            add(repository.blobContent(entry.id, limit: LFSBlob.readLimit))
        }
        let local = try repository.references(matching: "refs/heads/*").map(\.target)
        let remote = try repository.references(matching: "refs/remotes/*").map(\.target)
        for blob in try repository.introducedBlobs(from: local, hiding: remote, maxSize: LFSBlob.readLimit) {
            add(blob.content)
        }
        return needed
    }

    static func sharedBytes(_ path: String) -> Int64 {
        WorkTree.sharedBytes(path)
    }

    /// `path` as given on a command line run in `directory`, relative to the work tree's root.
    static func relativePath(_ path: String, root: URL, from directory: URL) -> String {
        let absolute = path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)
        let full = absolute.standardizedFileURL.path
        let base = root.standardizedFileURL.path.hasSuffix("/") ? root.standardizedFileURL.path : root.standardizedFileURL.path + "/"
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : path
    }
}
