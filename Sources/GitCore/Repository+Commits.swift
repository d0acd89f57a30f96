internal import CLibgit2
import Foundation

/// A small blob introduced by a commit, found when looking for LFS pointers to upload.
public struct IntroducedBlob: Sendable, Equatable {
    public var path: String
    public var commit: ObjectID
    public var content: Data
}

/// A file to put in a commit made without a work tree.
public struct CommitFile: Sendable {
    public enum Content: Sendable {
        case data(Data)
        case file(URL)
    }
    public var path: String
    public var executable: Bool
    public var content: Content
    public init(path: String, executable: Bool = false, content: Content) {
        self.path = path
        self.executable = executable
        self.content = content
    }
}

extension Repository {
    /// Blobs of at most `maxSize` bytes that the commits reachable from `sources`, and not from
    /// `hiding`, add or change (each against its first parent; a root commit adds everything).
    /// This is what a push sends that the remote does not have yet, as far as pointers go.
    public func introducedBlobs(from sources: [ObjectID], hiding: [ObjectID], maxSize: Int) throws -> [IntroducedBlob] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, pointer), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue)
        var pushed = 0
        for source in sources {
            var oid = source.oid
            if git_revwalk_push(walk, &oid) == 0 { pushed += 1 }
        }
        guard pushed > 0 else { return [] }
        for hidden in hiding where hasObject(hidden) {
            var oid = hidden.oid
            _ = git_revwalk_hide(walk, &oid)  // a tag or a non-commit: nothing to hide
        }
        var result: [IntroducedBlob] = []
        var seen = Set<String>()
        var oid = git_oid()
        while git_revwalk_next(&oid, walk) == 0 {
            let commit = ObjectID(oid)
            var commitObject: OpaquePointer?
            try check(git_commit_lookup(&commitObject, pointer, &oid), "git_commit_lookup")
            defer { git_commit_free(commitObject) }
            var newTree: OpaquePointer?
            try check(git_commit_tree(&newTree, commitObject), "git_commit_tree")
            defer { git_tree_free(newTree) }
            var oldTree: OpaquePointer?
            if git_commit_parentcount(commitObject) > 0 {
                var parent: OpaquePointer?
                try check(git_commit_parent(&parent, commitObject, 0), "git_commit_parent")
                defer { git_commit_free(parent) }
                try check(git_commit_tree(&oldTree, parent), "git_commit_tree")
            }
            defer { git_tree_free(oldTree) }
            var diff: OpaquePointer?
            try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, nil), "git_diff_tree_to_tree")
            defer { git_diff_free(diff) }
            for i in 0..<git_diff_num_deltas(diff) {
                guard let delta = git_diff_get_delta(diff, i)?.pointee,
                      delta.status != GIT_DELTA_DELETED,
                      delta.new_file.mode == GIT_FILEMODE_BLOB.rawValue || delta.new_file.mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue
                else { continue }
                var blobID = delta.new_file.id
                let id = ObjectID(blobID)
                guard seen.insert(id.hex).inserted else { continue }
                var blob: OpaquePointer?
                guard git_blob_lookup(&blob, pointer, &blobID) == 0 else { continue }
                defer { git_blob_free(blob) }
                let size = Int(git_blob_rawsize(blob))
                guard size <= maxSize else { continue }
                result.append(IntroducedBlob(path: String(cString: delta.new_file.path), commit: commit,
                                             content: Data(bytes: git_blob_rawcontent(blob), count: size)))
            }
        }
        return result
    }

    /// The content of the file at `path` in `commit`'s tree, or nil.
    public func fileContent(_ path: String, in commit: ObjectID) -> Data? {
        var oid = commit.oid
        var commitObject: OpaquePointer?
        guard git_commit_lookup(&commitObject, pointer, &oid) == 0 else { return nil }
        defer { git_commit_free(commitObject) }
        var tree: OpaquePointer?
        guard git_commit_tree(&tree, commitObject) == 0 else { return nil }
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, path) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        var blob: OpaquePointer?
        guard git_blob_lookup(&blob, pointer, git_tree_entry_id(entry)) == 0 else { return nil }
        defer { git_blob_free(blob) }
        return Data(bytes: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob)))
    }

    /// Makes a commit of `parent`'s tree with `files` added or replaced, without a work tree, and
    /// returns its id. No reference is moved.
    public func commit(files: [CommitFile], parent: ObjectID?, message: String,
                       author: (name: String, email: String)? = nil) throws -> ObjectID {
        var index: OpaquePointer?
        try check(git_index_new(&index), "git_index_new")
        defer { git_index_free(index) }
        var parentCommit: OpaquePointer?
        defer { git_commit_free(parentCommit) }
        if let parent {
            var oid = parent.oid
            try check(git_commit_lookup(&parentCommit, pointer, &oid), "git_commit_lookup")
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, parentCommit), "git_commit_tree")
            defer { git_tree_free(tree) }
            try check(git_index_read_tree(index, tree), "git_index_read_tree")
        }
        for file in files {
            var blob = git_oid()
            switch file.content {
            case .data(let data):
                try data.withUnsafeBytes { bytes in
                    try check(git_blob_create_from_buffer(&blob, pointer, bytes.baseAddress, bytes.count),
                              "git_blob_create_from_buffer")
                }
            case .file(let url):
                try check(git_blob_create_from_disk(&blob, pointer, url.path), "git_blob_create_from_disk")
            }
            // An entry where a directory was (or the reverse) would make the tree invalid.
            _ = git_index_remove_directory(index, file.path, 0)
            var entry = git_index_entry()
            entry.mode = file.executable ? GIT_FILEMODE_BLOB_EXECUTABLE.rawValue : GIT_FILEMODE_BLOB.rawValue
            entry.id = blob
            try file.path.withCString { path in
                entry.path = path
                try check(git_index_add(index, &entry), "git_index_add")
            }
        }
        var treeID = git_oid()
        try check(git_index_write_tree_to(&treeID, index, pointer), "git_index_write_tree_to")
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, pointer, &treeID), "git_tree_lookup")
        defer { git_tree_free(tree) }

        var signature: UnsafeMutablePointer<git_signature>?
        if let author {
            try check(git_signature_now(&signature, author.name, author.email), "git_signature_now")
        } else if git_signature_default(&signature, pointer) != 0 {
            try check(git_signature_now(&signature, "msgit", "msgit@localhost"), "git_signature_now")
        }
        defer { git_signature_free(signature) }
        var commitID = git_oid()
        var parents: [OpaquePointer?] = parentCommit.map { [$0] } ?? []
        try parents.withUnsafeMutableBufferPointer { buffer in
            try check(git_commit_create(&commitID, pointer, nil, signature, signature, "UTF-8", message, tree,
                                        buffer.count, buffer.baseAddress), "git_commit_create")
        }
        return ObjectID(commitID)
    }
}
