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
        _ = try LFSCleanCheck.status(of: repository)
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
        for path in changed where repository.attribute("filter", for: path) == "lfs" {
            if let blob = try repository.indexBlob(path),
               let content = repository.blobContent(blob, limit: Pointer.maximumFileSize - 1), Pointer(content) != nil {
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

/// A move of the work tree under way (`WorkTreeUpdate.move`), in `<git dir>/msgit/update-in-progress`:
/// written once its files start to change, removed once HEAD has moved. Found by the next update, it
/// means the last one was killed halfway (`WorkTreeUpdate.undoInterruptedMove`).
struct UpdateJournal: Codable {
    var from: String?
    var to: String
    /// The paths the move touches (those that differ between the two trees).
    var paths: [String]

    static func file(_ gitDirectory: URL) -> URL {
        gitDirectory.appendingPathComponent("msgit/update-in-progress")
    }

    static func load(_ gitDirectory: URL) -> UpdateJournal? {
        guard let data = try? Data(contentsOf: file(gitDirectory)) else { return nil }
        return try? JSONDecoder().decode(UpdateJournal.self, from: data)
    }

    /// Written under a temporary name, synced and renamed: the journal is whole or absent.
    func save(_ gitDirectory: URL) {
        let target = Self.file(gitDirectory)
        try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.appendingPathExtension("tmp-\(getpid())")
        guard let data = try? JSONEncoder().encode(self) else { return }
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        if written == data.count { rename(temporary.path, target.path) } else { unlink(temporary.path) }
    }

    static func remove(_ gitDirectory: URL) {
        unlink(file(gitDirectory).path)
    }
}
