internal import CLibgit2
import Foundation

/// A file in a tree: its path from the root, mode, blob id and size.
public struct TreeBlob: Sendable, Equatable {
    public var path: String
    /// 0o100644 or 0o100755.
    public var mode: UInt32
    public var id: ObjectID
    public var size: Int64
}

extension Repository {
    /// Every regular file in the tree of `revision`'s commit. For blobs no larger than
    /// `contentLimit`, `body` also gets the content (LFS pointers are under 1024 bytes).
    public func walkFiles(of revision: String, contentLimit: Int,
                          _ body: (TreeBlob, Data?) throws -> Void) throws {
        guard let commit = commit(for: revision) else {
            throw GitError(code: .notFound, domain: .reference, message: "no commit for '\(revision)'",
                           function: "walkFiles")
        }
        try walkFiles(ofCommit: commit, contentLimit: contentLimit, body)
    }

    /// Calls `body` with the tree of `commit`, freed when `body` returns.
    func withTree<R>(ofCommit commit: ObjectID, _ body: (OpaquePointer?) throws -> R) throws -> R {
        var commitOID = commit.oid
        var commitObject: OpaquePointer?
        try check(git_commit_lookup(&commitObject, pointer, &commitOID), "git_commit_lookup")
        defer { git_commit_free(commitObject) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commitObject), "git_commit_tree")
        defer { git_tree_free(tree) }
        return try body(tree)
    }

    public func walkFiles(ofCommit commit: ObjectID, contentLimit: Int,
                          _ body: (TreeBlob, Data?) throws -> Void) throws {
        try withTree(ofCommit: commit) { tree in try walkFiles(of: tree, contentLimit: contentLimit, body) }
    }

    private func walkFiles(of tree: OpaquePointer?, contentLimit: Int,
                           _ body: (TreeBlob, Data?) throws -> Void) throws {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, pointer), "git_repository_odb")
        defer { git_odb_free(odb) }

        final class Walk {
            let body: (TreeBlob, Data?) throws -> Void
            let odb: OpaquePointer?
            let repository: OpaquePointer
            let limit: Int
            var error: (any Error)?
            init(_ body: @escaping (TreeBlob, Data?) throws -> Void, odb: OpaquePointer?, repository: OpaquePointer, limit: Int) {
                self.body = body
                self.odb = odb
                self.repository = repository
                self.limit = limit
            }
        }
        try withoutActuallyEscaping(body) { body in
            let walk = Walk(body, odb: odb, repository: pointer, limit: contentLimit)
            let rc = withExtendedLifetime(walk) {
                git_tree_walk(tree, GIT_TREEWALK_PRE, { root, entry, payload in
                    let walk = Unmanaged<Walk>.fromOpaque(payload!).takeUnretainedValue()
                    guard let entry, git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return 0 }
                    let mode = git_tree_entry_filemode(entry).rawValue
                    guard mode == GIT_FILEMODE_BLOB.rawValue || mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue else { return 0 }
                    let path = String(cString: root!) + String(cString: git_tree_entry_name(entry))
                    let id = git_tree_entry_id(entry)!
                    var size = 0
                    var type = GIT_OBJECT_INVALID
                    guard git_odb_read_header(&size, &type, walk.odb, id) == 0 else { return -1 }
                    var content: Data?
                    if size <= walk.limit {
                        var blob: OpaquePointer?
                        guard git_blob_lookup(&blob, walk.repository, id) == 0 else { return -1 }
                        defer { git_blob_free(blob) }
                        content = Data(bytes: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob)))
                    }
                    do {
                        try walk.body(TreeBlob(path: path, mode: UInt32(mode), id: ObjectID(id.pointee), size: Int64(size)), content)
                        return 0
                    } catch {
                        walk.error = error
                        return -1
                    }
                }, Unmanaged.passUnretained(walk).toOpaque())
            }
            if let error = walk.error { throw error }
            try check(rc, "git_tree_walk")
        }
    }

    /// The value of attribute `name` (e.g. "filter") for `path`, from the work tree's and index's
    /// .gitattributes, or from `commit`'s when given (bare repositories). Nil when unspecified,
    /// "true"/"false" when set or unset without a value.
    public func attribute(_ name: String, for path: String, commit: ObjectID? = nil) -> String? {
        var options = git_attr_options()
        options.version = UInt32(GIT_ATTR_OPTIONS_VERSION)
        options.flags = UInt32(GIT_ATTR_CHECK_FILE_THEN_INDEX)
        if let commit {
            options.flags = UInt32(GIT_ATTR_CHECK_INDEX_ONLY) | UInt32(GIT_ATTR_CHECK_INCLUDE_COMMIT)
            options.attr_commit_id = commit.oid
        }
        var value: UnsafePointer<CChar>?
        guard git_attr_get_ext(&value, pointer, &options, path, name) == 0 else { return nil }
        switch git_attr_value(value) {
        case GIT_ATTR_VALUE_TRUE: return "true"
        case GIT_ATTR_VALUE_FALSE: return "false"
        case GIT_ATTR_VALUE_STRING: return value.map { String(cString: $0) }
        default: return nil
        }
    }

    /// Makes the index's stat data for `paths` match the files now in the work tree, keeping their
    /// blob ids, as git-lfs's smudge leaves them: the pointer stays the staged content, and git
    /// sees the checked-out file as clean without reading it.
    public func refreshIndexStat(paths: [String]) throws {
        guard let workdir = workingDirectory, !paths.isEmpty else { return }
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "git_repository_index")
        defer { git_index_free(index) }
        for path in paths {
            guard let existing = git_index_get_bypath(index, path, 0) else { continue }
            var st = stat()
            guard stat(workdir.appendingPathComponent(path).path, &st) == 0 else { continue }
            var entry = existing.pointee
            entry.ctime.seconds = Int32(truncatingIfNeeded: st.st_ctim.tv_sec)
            entry.ctime.nanoseconds = UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec)
            entry.mtime.seconds = Int32(truncatingIfNeeded: st.st_mtim.tv_sec)
            entry.mtime.nanoseconds = UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec)
            entry.dev = UInt32(truncatingIfNeeded: st.st_dev)
            entry.ino = UInt32(truncatingIfNeeded: st.st_ino)
            entry.uid = st.st_uid
            entry.gid = st.st_gid
            entry.file_size = UInt32(truncatingIfNeeded: st.st_size)
            // Up to date: libgit2 then does not re-read the file as "racily clean" when it writes
            // the index (it would hash the content without the LFS filter and mark it dirty).
            entry.flags_extended |= UInt16(GIT_INDEX_ENTRY_UPTODATE.rawValue)
            try check(git_index_add(index, &entry), "git_index_add")
        }
        try check(git_index_write(index), "git_index_write")
    }
}
