internal import CLibgit2
import Foundation

/// One path whose state differs between HEAD, the index and the work tree, as `git status` sees
/// it through libgit2 (no filters of git's own run: an LFS file's content is compared as it is).
public struct StatusEntry: Sendable, Equatable {
    /// How a path changed from one side to the other.
    public enum Change: Character, Sendable, Equatable {
        case added = "A", modified = "M", deleted = "D", renamed = "R", typeChanged = "T", untracked = "?",
             conflicted = "U"
    }

    /// The path (the new one of a rename), relative to the work tree; a directory holding only
    /// untracked files ends with "/", as git shows it.
    public var path: String
    /// The path before a rename staged in the index.
    public var originalPath: String?
    /// From HEAD to the index (what `git commit` would record).
    public var staged: Change?
    /// From the index to the work tree.
    public var unstaged: Change?
}

extension Repository {
    /// Every path that is not clean, sorted as git sorts them, with untracked files (directories
    /// of only untracked files as one entry) and renames staged in the index; ignored files are
    /// left out.
    public func status() throws -> [StatusEntry] {
        var options = git_status_options()
        try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX.rawValue
            | GIT_STATUS_OPT_SORT_CASE_SENSITIVELY.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try check(git_status_list_new(&list, pointer, &options), "git_status_list_new")
        defer { git_status_list_free(list) }
        var entries: [StatusEntry] = []
        for i in 0..<git_status_list_entrycount(list) {
            guard let raw = git_status_byindex(list, i)?.pointee else { continue }
            let flags = raw.status.rawValue
            func has(_ flag: git_status_t) -> Bool { flags & flag.rawValue != 0 }
            var staged: StatusEntry.Change?
            if has(GIT_STATUS_INDEX_NEW) { staged = .added }
            if has(GIT_STATUS_INDEX_MODIFIED) { staged = .modified }
            if has(GIT_STATUS_INDEX_DELETED) { staged = .deleted }
            if has(GIT_STATUS_INDEX_RENAMED) { staged = .renamed }
            if has(GIT_STATUS_INDEX_TYPECHANGE) { staged = .typeChanged }
            var unstaged: StatusEntry.Change?
            if has(GIT_STATUS_WT_MODIFIED) { unstaged = .modified }
            if has(GIT_STATUS_WT_DELETED) { unstaged = .deleted }
            if has(GIT_STATUS_WT_TYPECHANGE) { unstaged = .typeChanged }
            if has(GIT_STATUS_WT_NEW) { staged = .untracked; unstaged = .untracked }
            if has(GIT_STATUS_CONFLICTED) { staged = .conflicted; unstaged = .conflicted }
            guard staged != nil || unstaged != nil else { continue }
            let headToIndex = raw.head_to_index?.pointee
            let indexToWorkdir = raw.index_to_workdir?.pointee
            let path = (indexToWorkdir?.new_file.path ?? headToIndex?.new_file.path).map { String(cString: $0) } ?? ""
            var original: String?
            if staged == .renamed, let old = headToIndex?.old_file.path { original = String(cString: old) }
            entries.append(StatusEntry(path: path, originalPath: original, staged: staged, unstaged: unstaged))
        }
        return entries
    }

    /// The blob the index holds for `path` (stage 0), or nil.
    public func indexBlob(_ path: String) throws -> ObjectID? {
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "git_repository_index")
        defer { git_index_free(index) }
        return git_index_get_bypath(index, path, 0).map { ObjectID($0.pointee.id) }
    }

    /// The file size each of `paths` has in the index's stat data (nil for a path not in the
    /// index), reading the index once.
    public func indexFileSizes(_ paths: [String]) throws -> [String: Int64] {
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "git_repository_index")
        defer { git_index_free(index) }
        var sizes: [String: Int64] = [:]
        for path in paths {
            if let entry = git_index_get_bypath(index, path, 0) { sizes[path] = Int64(entry.pointee.file_size) }
        }
        return sizes
    }

    /// The content of blob `id` if it is at most `limit` bytes, else nil.
    public func blobContent(_ id: ObjectID, limit: Int) -> Data? {
        var oid = id.oid
        var blob: OpaquePointer?
        guard git_blob_lookup(&blob, pointer, &oid) == 0 else { return nil }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size <= limit else { return nil }
        return Data(bytes: git_blob_rawcontent(blob), count: size)
    }
}

extension Repository {
    /// Every stage-0 entry of the index: path and blob.
    public func indexEntries() throws -> [(path: String, id: ObjectID)] {
        var index: OpaquePointer?
        try check(git_repository_index(&index, pointer), "git_repository_index")
        defer { git_index_free(index) }
        var entries: [(String, ObjectID)] = []
        for i in 0..<git_index_entrycount(index) {
            guard let entry = git_index_get_byindex(index, i)?.pointee, (entry.flags >> 12) & 0x3 == 0,
                  let path = entry.path else { continue }
            entries.append((String(cString: path), ObjectID(entry.id)))
        }
        return entries
    }
}
