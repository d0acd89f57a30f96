import Foundation

/// A second file that gets every byte of a fresh download as it arrives (`FileSink`), for a
/// caller that wants the content elsewhere too and would otherwise copy it afterwards: the LFS pass
/// of a clone moves it into the work tree. It is handed over only once the object verified.
struct DownloadCopy {
    let url: URL
    let fd: Int32

    /// A new, empty copy of `pointer`'s object in `directory`.
    static func create(in directory: URL, for pointer: Pointer) throws -> DownloadCopy {
        try Directories.ensure(directory)
        let url = directory.appendingPathComponent("\(pointer.oid).copy-\(UUID().uuidString.prefix(8))")
        let fd = open(url.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(url.path): \(String(cString: strerror(errno)))") }
        return DownloadCopy(url: url, fd: fd)
    }

    /// Closes it and hands it to the caller (its object verified).
    func handOver() -> URL {
        close(fd)
        return url
    }

    func discard() {
        close(fd)
        unlink(url.path)
    }
}
