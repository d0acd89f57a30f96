import Foundation

/// The resume state of a segmented download: `<oid>.part` and, while segments may be written
/// beyond its verified prefix, `<oid>.part.length` with that prefix's length.
enum PartialFile {
    static func lengthFile(_ partial: URL) -> URL { URL(fileURLWithPath: partial.path + ".length") }

    /// Where a download of `partial` continues: the recorded length if there is one (what lies
    /// beyond it may have holes), else the file's size (a file cut to its prefix).
    static func prefix(_ partial: URL, size: Int64) -> Int64 {
        guard let actual = fileSize(partial) else { return 0 }
        var have = actual
        if let text = try? String(contentsOf: lengthFile(partial), encoding: .utf8) {
            have = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return have <= min(actual, size) && have >= 0 ? have : 0
    }

    /// Records the prefix length: written to a new file and renamed over the old one.
    static func record(_ length: Int64, for partial: URL) throws {
        let file = lengthFile(partial)
        let scratch = file.path + ".new"
        let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot write \(scratch): \(String(cString: strerror(errno)))") }
        let text = Array("\(length)\n".utf8)
        let n = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == text.count, rename(scratch, file.path) == 0 else {
            throw LFSError(.io, "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    static func forgetLength(_ partial: URL) {
        unlink(lengthFile(partial).path)
    }

    static func remove(_ partial: URL) {
        unlink(partial.path)
        forgetLength(partial)
    }
}

/// An exclusive `flock` on an object's partial file, so two processes never write one download.
struct PartialLock {
    let fd: Int32

    /// Waits for the lock, polling, and gives up waiting early when `done()` says the other
    /// process finished the object. The descriptor is closed on every way out but success,
    /// cancellation while waiting included.
    static func acquire(_ path: URL, until done: () -> Bool) async throws -> PartialLock {
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LFSError(.io, "cannot open \(path.path): \(String(cString: strerror(errno)))") }
        do {
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR else {
                    throw LFSError(.io, "cannot lock \(path.path): \(String(cString: strerror(errno)))")
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
