import Foundation

/// A second file that gets every byte of a fresh download as it arrives (`FileSink`), for a
/// caller that wants the content elsewhere too and would otherwise copy it afterwards: the LFS pass
/// of a clone moves it into the work tree. It is handed over only once the object verified.
struct DownloadCopy {
    let scratch: ObjectStore.Scratch
    let fd: Int32
    var url: URL { scratch.url }

    /// A new, empty copy of `pointer`'s object in `store`'s `tmp/`.
    static func create(in store: ObjectStore, for pointer: Pointer) throws -> DownloadCopy {
        let (scratch, fd) = try store.createScratch("\(pointer.oid).copy")
        return DownloadCopy(scratch: scratch, fd: fd)
    }

    /// Closes it and hands it to the caller (its object verified).
    func handOver() -> URL {
        close(fd)
        return url
    }

    func discard() {
        close(fd)
        scratch.directory.discard(scratch.name)
    }
}
