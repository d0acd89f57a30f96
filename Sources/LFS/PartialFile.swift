import Foundation
import PathSafety

/// The resume state of a segmented download, in the store's `incomplete/`: `<oid>.part` and,
/// while segments may be written beyond its verified prefix, `<oid>.part.length` with that
/// prefix's length. Every file is reached by its name in the directory, never through a link.
struct PartialFile: Sendable {
    let directory: Directory
    /// `<oid>.part`.
    let name: String

    var url: URL { URL(fileURLWithPath: directory.path + "/" + name, isDirectory: false) }
    private var lengthName: String { name + ".length" }

    /// The partial file of `oid` in `store` (its `incomplete/` made if needed).
    init(_ oid: String, in store: ObjectStore) throws {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        directory = try store.directory("incomplete")
        name = "\(oid).part"
    }

    /// The size of the partial file, when there is one (a regular file, not a link).
    var size: Int64? {
        guard let st = directory.status(name), st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Opens (or creates) the partial file for reading and writing.
    func open() throws -> Int32 {
        try lfs { try directory.openFile(name, O_RDWR | O_CREAT, mode: 0o644) }
    }

    /// Where a download continues: the recorded length if there is one (what lies beyond it may
    /// have holes), else the file's size (a file cut to its prefix).
    func prefix(size objectSize: Int64) -> Int64 {
        guard let actual = size else { return 0 }
        var have = actual
        if let fd = try? directory.openFile(lengthName, O_RDONLY) {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, buffer.count)
            let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            have = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return have <= min(actual, objectSize) && have >= 0 ? have : 0
    }

    /// Records the prefix length: written to a new file and renamed over the old one.
    func record(_ length: Int64) throws {
        let scratch = lengthName + ".new"
        let fd = try lfs { try directory.openFile(scratch, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) }
        let text = Array("\(length)\n".utf8)
        let n = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == text.count else {
            throw LFSError(.io, "cannot write \(directory.path)/\(scratch): \(String(cString: strerror(errno)))")
        }
        try lfs { try directory.rename(scratch, to: directory, as: lengthName) }
    }

    func forgetLength() {
        directory.discard(lengthName)
    }

    func remove() {
        directory.discard(name)
        forgetLength()
    }
}

/// An exclusive `flock` on an object's partial file, so two processes never write one download.
struct PartialLock {
    let fd: Int32

    /// Waits for the lock, polling, and gives up waiting early when `done()` says the other
    /// process finished the object. The descriptor is closed on every way out but success,
    /// cancellation while waiting included.
    static func acquire(_ partial: PartialFile, until done: () -> Bool) async throws -> PartialLock {
        let fd = try partial.open()
        do {
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR else {
                    throw LFSError(.io, "cannot lock \(partial.url.path): \(String(cString: strerror(errno)))")
                }
                if done() { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            close(fd)
            throw error
        }
        return PartialLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
