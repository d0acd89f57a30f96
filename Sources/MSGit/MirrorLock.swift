import Foundation
import GitCore

/// An exclusive `flock` on `<mirror>.msgit-lock`, so two runs never work on one mirror at once.
struct MirrorLock {
    let fd: Int32

    /// The lock, or nil when another process holds it.
    static func acquire(_ path: URL) throws -> MirrorLock? {
        let lockPath = path.deletingLastPathComponent().appendingPathComponent(path.lastPathComponent + ".msgit-lock")
        try FileManager.default.createDirectory(at: lockPath.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(lockPath.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MSGitError(.io, "cannot open \(lockPath.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return MirrorLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
