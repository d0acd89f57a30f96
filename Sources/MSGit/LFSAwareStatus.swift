import Foundation
import GitCore
import LFS

/// `git status` through libgit2, with what git-lfs's clean filter would add: an LFS file whose
/// content is exactly its pointer's object is clean, even when its time stamps no longer match the
/// index (touched, copied in place). Such files get their index entries' stat data refreshed, as
/// `git update-index --refresh` does, so the next look is cheap.
enum LFSAwareStatus {
    static func status(of repository: Repository) throws -> [StatusEntry] {
        var entries = try repository.status()
        guard let root = repository.workingDirectory else { return entries }
        var clean: Set<String> = []
        for entry in entries where entry.unstaged == .modified {
            guard let blob = try repository.indexBlob(entry.path),
                  let pointer = LFSBlob.file(entry.path, content: repository.blobContent(blob, limit: LFSBlob.readLimit),
                                             in: repository),
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
