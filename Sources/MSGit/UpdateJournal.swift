import Foundation
import GitCore
import LFS

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
