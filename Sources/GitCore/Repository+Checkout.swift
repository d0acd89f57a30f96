internal import CLibgit2
import Foundation

/// Files a safe checkout would have to overwrite or remove to proceed: changed in the work tree
/// (or the index) and changed between the two trees, or untracked and in the way of a new file.
/// Nothing was written when this is thrown.
public struct CheckoutConflict: Error, Sendable, Equatable {
    public var paths: [String]
}

extension Repository {
    /// Moves the work tree and index from HEAD's tree to `commit`'s, as `git checkout` and a
    /// fast-forward `git merge` do: files that differ between the two trees are written or
    /// removed; local changes to other files and untracked files stay. When a local change (or an
    /// untracked file) is in the way, nothing is written and `CheckoutConflict` lists every such
    /// path. References are not moved; the caller does that once this succeeded.
    ///
    /// `willWrite` is called once, after the check for conflicts passed and before the first file
    /// is written or removed (libgit2's first progress report), so a caller can record that a move
    /// is under way.
    public func checkout(commit: ObjectID, willWrite: (() -> Void)? = nil,
                         progress: ((_ completed: Int, _ total: Int) -> Void)? = nil) throws {
        final class Context {
            var conflicts: [String] = []
            let progress: ((Int, Int) -> Void)?
            var willWrite: (() -> Void)?
            init(_ progress: ((Int, Int) -> Void)?, willWrite: (() -> Void)?) {
                self.progress = progress
                self.willWrite = willWrite
            }
        }
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
        options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT.rawValue
        let context = Context(progress, willWrite: willWrite)
        let payload = Unmanaged.passUnretained(context).toOpaque()
        options.notify_payload = payload
        options.notify_cb = { _, path, _, _, _, payload in
            let context = Unmanaged<Context>.fromOpaque(payload!).takeUnretainedValue()
            if let path { context.conflicts.append(String(cString: path)) }
            return 0  // go on, so that every conflict is listed; libgit2 then refuses the checkout
        }
        if progress != nil || willWrite != nil {
            options.progress_payload = payload
            options.progress_cb = { _, completed, total, payload in
                let context = Unmanaged<Context>.fromOpaque(payload!).takeUnretainedValue()
                if let willWrite = context.willWrite {
                    context.willWrite = nil
                    willWrite()
                }
                context.progress?(Int(completed), Int(total))
            }
        }
        try withExtendedLifetime(context) {
            var oid = commit.oid
            var object: OpaquePointer?
            try check(git_object_lookup(&object, pointer, &oid, GIT_OBJECT_COMMIT), "git_object_lookup")
            defer { git_object_free(object) }
            let rc = git_checkout_tree(pointer, object, &options)
            if rc == GIT_ECONFLICT.rawValue || !context.conflicts.isEmpty {
                throw CheckoutConflict(paths: context.conflicts.sorted())
            }
            try check(rc, "git_checkout_tree")
        }
    }

    /// Every path whose entry differs between `from`'s tree and `to`'s (added, changed, removed,
    /// changed in type), as a checkout from one to the other touches them.
    public func differingPaths(from: ObjectID, to: ObjectID) throws -> [String] {
        try withTree(ofCommit: to) { newTree in
            try withTree(ofCommit: from) { oldTree in
                var diff: OpaquePointer?
                try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, nil), "git_diff_tree_to_tree")
                defer { git_diff_free(diff) }
                var paths: [String] = []
                for i in 0..<git_diff_num_deltas(diff) {
                    guard let delta = git_diff_get_delta(diff, i)?.pointee else { continue }
                    paths.append(String(cString: delta.new_file.path ?? delta.old_file.path))
                    if let old = delta.old_file.path, String(cString: old) != paths.last { paths.append(String(cString: old)) }
                }
                return paths
            }
        }
    }

    /// Puts `paths` of the work tree and the index back as `commit`'s tree has them, whatever is
    /// there now (a file not in that tree is removed): for paths a move wrote in part, only.
    public func restore(paths: [String], to commit: ObjectID) throws {
        guard !paths.isEmpty else { return }
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_REMOVE_UNTRACKED.rawValue
            | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
        let cStrings = paths.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafeMutablePointer<CChar>($0) }
        try pointers.withUnsafeMutableBufferPointer { buffer in
            options.paths = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            var oid = commit.oid
            var object: OpaquePointer?
            try check(git_object_lookup(&object, pointer, &oid, GIT_OBJECT_COMMIT), "git_object_lookup")
            defer { git_object_free(object) }
            try check(git_checkout_tree(pointer, object, &options), "git_checkout_tree")
        }
    }

    /// The regular files whose content or mode differs between `from`'s tree and `to`'s, and that
    /// exist in `to` (added or changed); every file of `to` when `from` is nil.
    public func changedFiles(from: ObjectID?, to: ObjectID) throws -> [String] {
        try withTree(ofCommit: to) { newTree in
            var diff: OpaquePointer?
            if let from {
                try withTree(ofCommit: from) { oldTree in
                    try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, nil), "git_diff_tree_to_tree")
                }
            } else {
                try check(git_diff_tree_to_tree(&diff, pointer, nil, newTree, nil), "git_diff_tree_to_tree")
            }
            defer { git_diff_free(diff) }
            var paths: [String] = []
            for i in 0..<git_diff_num_deltas(diff) {
                guard let delta = git_diff_get_delta(diff, i)?.pointee, delta.status != GIT_DELTA_DELETED,
                      delta.new_file.mode == GIT_FILEMODE_BLOB.rawValue
                        || delta.new_file.mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue else { continue }
                paths.append(String(cString: delta.new_file.path))
            }
            return paths
        }
    }

    /// Creates branch `name` at `commit` (refs/heads/`name`); fails if it exists.
    public func createBranch(_ name: String, at commit: ObjectID, message: String) throws {
        try createReference("refs/heads/\(name)", target: commit, force: false, message: message)
    }

    /// How many commits `local` has that `upstream` does not, and the reverse.
    public func aheadBehind(local: ObjectID, upstream: ObjectID) throws -> (ahead: Int, behind: Int) {
        var ahead = 0, behind = 0
        var l = local.oid, u = upstream.oid
        try check(git_graph_ahead_behind(&ahead, &behind, pointer, &l, &u), "git_graph_ahead_behind")
        return (ahead, behind)
    }

    /// The first line of `commit`'s message.
    public func summary(of commit: ObjectID) -> String? {
        var oid = commit.oid
        var object: OpaquePointer?
        guard git_commit_lookup(&object, pointer, &oid) == 0 else { return nil }
        defer { git_commit_free(object) }
        return git_commit_summary(object).map { String(cString: $0) }
    }
}

extension Repository {
    /// The remote-tracking reference that `remote`'s fetch refspecs map `reference` to
    /// ("refs/heads/main" -> "refs/remotes/origin/main"), or nil when none does.
    public func trackingReference(remote: String, for reference: String) -> String? {
        var handle: OpaquePointer?
        guard git_remote_lookup(&handle, pointer, remote) == 0 else { return nil }
        defer { git_remote_free(handle) }
        for i in 0..<git_remote_refspec_count(handle) {
            guard let spec = git_remote_get_refspec(handle, i), git_refspec_direction(spec) == GIT_DIRECTION_FETCH,
                  git_refspec_src_matches(spec, reference) == 1 else { continue }
            var buf = git_buf()
            defer { git_buf_dispose(&buf) }
            guard git_refspec_transform(&buf, spec, reference) == 0, let ptr = buf.ptr else { continue }
            return String(cString: ptr)
        }
        return nil
    }
}
