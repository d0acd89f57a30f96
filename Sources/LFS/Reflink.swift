import Foundation

/// Copy-on-write clones of files: one physical copy of the data behind two independent files
/// (XFS, Btrfs, bcachefs through `FICLONE` on Linux; APFS through `clonefile` on macOS). Writing to
/// either file later copies only the blocks written.
enum Reflink {
    /// Makes `destination`, which must not exist, a clone of `source` with `mode`. False (and no
    /// destination) when the file system cannot clone, or the two are on different file systems;
    /// throws for other errors.
    static func clone(_ source: String, to destination: String, mode: mode_t) throws -> Bool {
        #if canImport(Darwin)
        guard clonefile(source, destination, 0) == 0 else {
            if errno == ENOTSUP || errno == EXDEV { return false }
            throw LFSError(.io, "cannot clone \(source): \(String(cString: strerror(errno)))")
        }
        chmod(destination, mode)
        return true
        #else
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw LFSError(.io, "cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw LFSError(.io, "cannot write \(destination): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        if ioctl(output, ficlone, CInt(input)) == 0 {
            fchmod(output, mode)  // umask must not change the mode
            return true
        }
        let reason = errno
        unlink(destination)
        if [EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ENOSYS, EBADF].contains(reason) { return false }
        throw LFSError(.io, "cannot clone \(source): \(String(cString: strerror(reason)))")
        #endif
    }

    /// How many of `path`'s bytes lie in extents the file shares with another file (a reflink, or
    /// a deduplicated block), from `FIEMAP`; 0 where the file system does not say.
    static func sharedBytes(_ path: String) -> Int64 {
        #if canImport(Darwin)
        return 0
        #else
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        // struct fiemap (32 bytes) followed by `count` struct fiemap_extent (56 bytes each).
        let count = 256
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 + 56 * count, alignment: 8)
        defer { buffer.deallocate() }
        var shared: Int64 = 0
        var start: UInt64 = 0
        while true {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.storeBytes(of: start, toByteOffset: 0, as: UInt64.self)           // fm_start
            buffer.storeBytes(of: UInt64.max, toByteOffset: 8, as: UInt64.self)      // fm_length
            buffer.storeBytes(of: UInt32(count), toByteOffset: 24, as: UInt32.self)  // fm_extent_count
            guard ioctl(fd, fiemap, buffer.baseAddress!) == 0 else { return shared }
            let mapped = Int(buffer.load(fromByteOffset: 20, as: UInt32.self))       // fm_mapped_extents
            guard mapped > 0 else { return shared }
            var last = false
            for i in 0..<mapped {
                let extent = 32 + 56 * i
                let logical = buffer.load(fromByteOffset: extent, as: UInt64.self)
                let length = buffer.load(fromByteOffset: extent + 16, as: UInt64.self)
                let flags = buffer.load(fromByteOffset: extent + 40, as: UInt32.self)
                if flags & 0x2000 != 0 { shared += Int64(length) }                   // FIEMAP_EXTENT_SHARED
                if flags & 0x1 != 0 { last = true }                                  // FIEMAP_EXTENT_LAST
                start = logical + length
            }
            if last { return shared }
        }
        #endif
    }

    #if !canImport(Darwin)
    /// `_IOW(0x94, 9, int)`
    private static let ficlone: UInt = 0x4004_9409
    /// `_IOWR('f', 11, struct fiemap)`
    private static let fiemap: UInt = 0xC020_660B
    #endif
}
