import Foundation
import GitCore
import LFS

/// Moving a work tree from one commit to another, as a fast-forward `git pull` and `git checkout`
/// do, for a tree whose LFS files hold their content: on the libgit2 thread.
enum WorkTreeUpdate {
    /// Checks out `target` over `current` (HEAD's commit, nil for an unborn branch) and returns
    /// the LFS files the move wrote as pointers; with `recordLFS`, they are recorded in
    /// `PendingLFS` to be resolved (by this update, or the next if this one is stopped first).
    ///
    /// Local changes are kept as git keeps them: a changed file the move does not touch stays as it
    /// is; one the move would overwrite, or an untracked file in the way of a new one, stops
    /// everything before a file is written, with git's words (`.localChanges`). An LFS file whose
    /// content is its object is not a change, whatever its time stamps say.
    static func move(_ repository: Repository, from current: ObjectID?, to target: ObjectID, action: Action,
                     recordLFS: Bool, progress: ((Int, Int) -> Void)? = nil) throws -> [String] {
        // Before anything is written: libgit2 checks out trees git's fsck refuses, and writes the
        // files of a directory through a link of the same name beside it.
        try repository.checkTree(ofCommit: target)
        _ = try LFSCleanCheck.status(of: repository)
        do {
            try repository.checkout(commit: target, progress: progress)
        } catch let conflict as CheckoutConflict {
            throw try localChangesError(conflict.paths, repository: repository, action: action)
        }
        let changed = try repository.changedFiles(from: current, to: target)
        var lfs: [String] = []
        for path in changed where repository.attribute("filter", for: path) == "lfs" {
            if let blob = try repository.indexBlob(path),
               let content = repository.blobContent(blob, limit: Pointer.maximumFileSize - 1), Pointer(content) != nil {
                lfs.append(path)
            }
        }
        if recordLFS { try PendingLFS.add(lfs, gitDirectory: repository.gitDirectory) }
        return lfs
    }

    enum Action {
        case merge, checkout

        var overwrittenBy: String { self == .merge ? "merge" : "checkout" }
        var advice: String {
            self == .merge ? "Please commit your changes or stash them before you merge."
                : "Please commit your changes or stash them before you switch branches."
        }
    }

    /// git's message for a refused move: tracked files with local changes, then untracked files.
    static func localChangesError(_ paths: [String], repository: Repository, action: Action) throws -> MSGitError {
        var changed: [String] = []
        var untracked: [String] = []
        for path in paths {
            if try repository.indexBlob(path) != nil { changed.append(path) } else { untracked.append(path) }
        }
        var parts: [String] = []
        if !changed.isEmpty {
            parts.append("Your local changes to the following files would be overwritten by \(action.overwrittenBy):\n"
                + changed.map { "\t\($0)\n" }.joined() + action.advice)
        }
        if !untracked.isEmpty {
            parts.append("The following untracked working tree files would be overwritten by \(action.overwrittenBy):\n"
                + untracked.map { "\t\($0)\n" }.joined() + "Please move or remove them before you \(action == .merge ? "merge" : "switch branches").")
        }
        return MSGitError(.localChanges, parts.joined(separator: "\n"), hint: "nothing was changed")
    }
}

/// `git status` through libgit2, with what git-lfs's clean filter would add: an LFS file whose
/// content is exactly its pointer's object is clean, even when its time stamps no longer match the
/// index (touched, copied in place). Such files get their index entries' stat data refreshed, as
/// `git update-index --refresh` does, so the next look is cheap.
enum LFSCleanCheck {
    static func status(of repository: Repository) throws -> [StatusEntry] {
        var entries = try repository.status()
        guard let root = repository.workingDirectory else { return entries }
        var clean: Set<String> = []
        for entry in entries where entry.unstaged == .modified {
            guard repository.attribute("filter", for: entry.path) == "lfs", let blob = try repository.indexBlob(entry.path),
                  let content = repository.blobContent(blob, limit: Pointer.maximumFileSize - 1),
                  let pointer = Pointer(content),
                  (try? pointer.matchesContent(of: root.appendingPathComponent(entry.path))) == true else { continue }
            clean.insert(entry.path)
        }
        guard !clean.isEmpty else { return entries }
        try repository.refreshIndexStat(paths: clean.sorted())
        entries = entries.compactMap { entry in
            guard clean.contains(entry.path) else { return entry }
            var entry = entry
            entry.unstaged = nil
            return entry.staged == nil ? nil : entry
        }
        return entries
    }
}
