import Foundation

/// LFS files that an update (pull, checkout) wrote as pointers and has not resolved yet, in
/// `<git dir>/msgit/lfs-pending`, one path per line: a run stopped between the checkout and the
/// downloads (killed, cancelled, offline) leaves them there, and the next update resolves them with
/// its own. Written whole under a temporary name and renamed.
enum PendingLFS {
    static func file(_ gitDirectory: URL) -> URL {
        gitDirectory.appendingPathComponent("msgit/lfs-pending")
    }

    static func read(_ gitDirectory: URL) -> Set<String> {
        guard let text = try? String(contentsOf: file(gitDirectory), encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").map(String.init))
    }

    static func add(_ paths: [String], gitDirectory: URL) throws {
        guard !paths.isEmpty else { return }
        try write(read(gitDirectory).union(paths), gitDirectory: gitDirectory)
    }

    static func remove(_ paths: [String], gitDirectory: URL) throws {
        let pending = read(gitDirectory)
        guard !pending.isEmpty, !paths.isEmpty else { return }
        try write(pending.subtracting(paths), gitDirectory: gitDirectory)
    }

    private static func write(_ paths: Set<String>, gitDirectory: URL) throws {
        let target = file(gitDirectory)
        if paths.isEmpty {
            try? FileManager.default.removeItem(at: target)
            return
        }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.appendingPathExtension("tmp-\(getpid())")
        try Data((paths.sorted().joined(separator: "\n") + "\n").utf8).write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            throw MSGitError(.io, "cannot write \(target.path): \(String(cString: strerror(errno)))")
        }
    }
}
