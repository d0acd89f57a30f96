import Foundation
import Synchronization

/// Keeps FoundationNetworking from filling the file system of its temporary directory.
///
/// A URLSession download task writes its temporary file with the non-throwing `FileHandle.write`,
/// which traps on ENOSPC and kills the whole process (swift-corelibs-foundation, Swift 6.3). So every
/// write msgit makes that can fill a file system — Foundation's temporary files, appends to partial
/// downloads, copies into work trees — first reserves its bytes on that file system, and fails (that
/// object, not the process) when they are not free. Reservations are per file system and shared by
/// everything in the process, so one clone's copies cannot eat the space another download counts on.
final class SpaceGuard: Sendable {
    static let shared = SpaceGuard()

    /// File system (st_dev) -> bytes reserved.
    private let reserved = Mutex<[UInt64: Int64]>([:])
    /// Left free for everyone else.
    let margin: Int64 = 1 << 20

    struct Reservation: ~Copyable {
        let owner: SpaceGuard
        let device: UInt64
        let bytes: Int64
        deinit { owner.reserved.withLock { $0[device, default: 0] = $0[device, default: 0].saturatingSubtract(bytes) } }
    }

    /// Reserves `bytes` on the file system holding `path` (or its nearest existing parent).
    func reserve(_ bytes: Int64, on path: URL, purpose: String) throws -> Reservation {
        var st = stat()
        guard let existing = Self.existingAncestor(path.path, &st) else {
            return Reservation(owner: self, device: UInt64.max, bytes: 0)
        }
        let device = UInt64(st.st_dev)
        let free = Self.freeBytes(existing)
        try reserved.withLock { table in
            let taken = table[device, default: 0]
            let available = free.map { $0.saturatingSubtract(taken).saturatingSubtract(margin) }
            if let available, available < bytes {
                throw LFSError(.io, "No space left on device: \(purpose) needs \(bytes) bytes on the file system of "
                    + "\(existing) and \(max(available, 0)) are free")
            }
            table[device, default: 0] = taken.saturatingAdd(bytes)
        }
        return Reservation(owner: self, device: device, bytes: bytes)
    }

    /// The temporary directory FoundationNetworking writes downloads to.
    static var foundationTemporaryDirectory: URL { FileManager.default.temporaryDirectory }

    /// `path` or its nearest existing parent, with its `stat` in `st`; nil if not even "/" is.
    static func existingAncestor(_ path: String, _ st: inout stat) -> String? {
        var current = path
        while stat(current, &st) != 0 {
            guard current != "/", let slash = current.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
            current = slash == current.utf8.startIndex ? "/" : String(current[..<slash])
        }
        return current
    }

    /// Bytes available to unprivileged users on the file system holding `path`, or nil if unknown.
    static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
