import Foundation
import GitCore
import PathSafety

/// An exclusive `flock` on `<mirror>.msgit-lock`, so two runs never work on one mirror at once.
struct MirrorLock {
    let fd: Int32

    /// The lock of the mirror `name` in `parent`, or nil when another process holds it.
    static func acquire(_ name: String, in parent: Directory) throws -> MirrorLock? {
        let fd: Int32
        do {
            fd = try parent.openFile(name + ".msgit-lock", O_RDWR | O_CREAT, mode: 0o644)
        } catch {
            throw MSGitError(.io, "cannot open the lock of \(parent.path)/\(name): \(error)")
        }
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
