import Foundation
import Synchronization

/// Keeps FoundationNetworking from filling its temporary directory's file system.
///
/// A URLSession download task writes its temporary file with the non-throwing `FileHandle.write`,
/// which traps on ENOSPC and kills the whole process (swift-corelibs-foundation, Swift 6.3). So
/// before each download msgit reserves the bytes that download will write there and fails the
/// object, not the process, when they are not free. Reservations are shared by the downloads of
/// one process.
final class SpaceGuard: Sendable {
    let directory: URL
    private let reserved = Mutex<Int64>(0)
    /// Left free for everyone else.
    let margin: Int64 = 1 << 20

    init(directory: URL = FileManager.default.temporaryDirectory) {
        self.directory = directory
    }

    struct Reservation: ~Copyable {
        let owner: SpaceGuard
        let bytes: Int64
        deinit { owner.reserved.withLock { $0 -= bytes } }
    }

    func reserve(_ bytes: Int64) throws -> Reservation {
        let free = Self.freeBytes(directory.path)
        try reserved.withLock { total in
            if let free, free - total - margin < bytes {
                throw LFSError(.io, "No space left on device: a download needs \(bytes) bytes in the temporary "
                    + "directory \(directory.path) and \(max(free - total - margin, 0)) are free (set TMPDIR elsewhere)")
            }
            total += bytes
        }
        return Reservation(owner: self, bytes: bytes)
    }

    /// Bytes available to unprivileged users on the file system holding `path`, or nil if unknown.
    static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
