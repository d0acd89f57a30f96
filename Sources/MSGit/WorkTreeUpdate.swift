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
    ///
    /// A move that was killed while it wrote files (`UpdateJournal`) is undone first, so that its
    /// half-written files do not pass for local changes. The caller moves HEAD once this returned,
    /// then calls `UpdateJournal.remove`.
    static func move(_ repository: Repository, from current: ObjectID?, to target: ObjectID, action: Action,
                     recordLFS: Bool, progress: ((Int, Int) -> Void)? = nil) throws -> [String] {
        // Before anything is written: libgit2 checks out trees git's fsck refuses, and writes the
        // files of a directory through a link of the same name beside it.
        try repository.checkTree(ofCommit: target)
        _ = try LFSAwareStatus.status(of: repository)
        let touched = try current.map { try repository.differingPaths(from: $0, to: target) } ?? []
        let gitDirectory = repository.gitDirectory
        do {
            try repository.checkout(commit: target, willWrite: {
                // The conflict check passed and files are about to change: from here until HEAD has
                // moved, a killed run must be undone by the next.
                UpdateJournal(from: current?.hex, to: target.hex, paths: touched).save(gitDirectory)
            }, progress: progress)
        } catch let conflict as CheckoutConflict {
            throw try localChangesError(conflict.paths, repository: repository, action: action)
        }
        let changed = try repository.changedFiles(from: current, to: target)
        var lfs: [String] = []
        for path in changed {
            if let blob = try repository.indexBlob(path),
               LFSBlob.file(path, content: repository.blobContent(blob, limit: LFSBlob.readLimit), in: repository) != nil {
                lfs.append(path)
            }
        }
        if recordLFS { try PendingLFS.add(lfs, gitDirectory: repository.gitDirectory) }
        return lfs
    }

    /// Undoes a move that was killed while it wrote files: its paths are put back as HEAD has them
    /// (they had no local changes, or the move would have been refused before writing any), and
    /// the journal goes. A journal whose move had moved HEAD already is only removed.
    static func undoInterruptedMove(_ repository: Repository) throws {
        let gitDirectory = repository.gitDirectory
        guard let journal = UpdateJournal.load(gitDirectory) else { return }
        let head = repository.commit(for: "HEAD")?.hex
        if head == journal.from, let from = journal.from.flatMap(ObjectID.init(hex:)) {
            try repository.restore(paths: journal.paths, to: from)
        }
        UpdateJournal.remove(gitDirectory)
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
