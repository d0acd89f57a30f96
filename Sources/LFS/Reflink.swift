import Foundation

/// Copy-on-write clones of files: one physical copy of the data behind two independent files
/// (XFS, Btrfs, bcachefs through `FICLONE` on Linux; APFS through `clonefile` on macOS). Writing to
/// either file later copies only the blocks written.
enum Reflink {
    /// Makes the open, empty file `output` a clone of the open file `input`. False when the file
    /// system cannot clone, or the two are on different file systems (nothing was written); throws
    /// for other errors. `name` is for messages.
    static func clone(from input: Int32, to output: Int32, name: String) throws -> Bool {
        #if canImport(Darwin)
        return false  // clonefile(2) works by path; fcopyfile with COPYFILE_CLONE could do it
        #else
        if ioctl(output, ficlone, CInt(input)) == 0 { return true }
        let reason = errno
        if [EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ENOSYS, EBADF].contains(reason) { return false }
        throw LFSError(.io, "cannot clone into \(name): \(String(cString: strerror(reason)))")
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
