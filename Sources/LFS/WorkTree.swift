import Foundation

/// Replaces pointer files in a work tree with their verified content from the store.
///
/// A file is replaced only when it still holds its pointer (a file the user changed is left as
/// it is), by a copy written under a temporary name in the same directory and renamed over it,
/// keeping the pointer file's mode. The work tree never holds a partial file.
public struct WorkTree: Sendable {
    public let root: URL
    public let store: ObjectStore
    /// `root`'s path; per-file paths are built as strings (see `ObjectStore.rootPath`).
    private let rootPath: String

    public init(root: URL, store: ObjectStore) {
        self.root = root
        self.store = store
        rootPath = root.standardizedFileURL.path.trimmingSuffix("/")
    }

    public enum State: Sendable, Equatable {
        /// The file holds its pointer: to be resolved.
        case pointer
        /// The file already has the object's content (by size; its content was verified when written).
        case resolved
        /// Missing, or changed by someone: left alone.
        case other
    }

    public func state(of file: LFSFile) -> State {
        guard let path = try? safePath(file.path), let size = fileSize(atPath: path) else { return .other }
        if size < Pointer.maximumFileSize, let data = readSmallFile(path), let found = Pointer(data),
           found.oid == file.pointer.oid {
            return .pointer
        }
        return size == file.pointer.size ? .resolved : .other
    }

    /// Puts the object's content at `file.path`. The object must be in the store. `copy`, a
    /// verified copy of the object made while it downloaded (`Fetcher.Options.checkoutCopies`), is
    /// moved into place when it can be, instead of copying the stored object.
    public func materialize(_ file: LFSFile, from copy: URL? = nil) throws {
        let target = try safePath(file.path)
        var st = stat()
        let mode: mode_t = stat(target, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        if let copy {
            let copyPath = copy.path
            if fileSize(atPath: copyPath) == file.pointer.size, chmod(copyPath, mode) == 0,
               (try? replace(target, with: copyPath)) != nil {
                return
            }
        }
        let slash = target.utf8.lastIndex(of: UInt8(ascii: "/"))!
        let temporary = "\(target[..<slash])/.\(target[target.utf8.index(after: slash)...]).msgit-\(UUID().uuidString.prefix(8))"
        let room = try SpaceGuard.shared.reserve(file.pointer.size, on: URL(fileURLWithPath: target),
                                                 purpose: "writing \(file.path)")
        defer { withExtendedLifetime(room) {} }
        do {
            try copyFile(from: store.path(for: file.pointer.oid), to: URL(fileURLWithPath: temporary), mode: mode)
            try replace(target, with: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Puts `file` at `target` atomically (the path always names the old or the new content).
    ///
    /// ext4 (with its default `auto_da_alloc`) makes a rename over an existing file allocate the
    /// incoming file's delayed blocks first, so that a crash cannot leave it empty: for a 1 GiB
    /// object that held the rename for 0.5 s. Exchanging the two names (`RENAME_EXCHANGE`) is just
    /// as atomic and skips that, after which the pointer file, now under the temporary name, is
    /// removed. Where exchange is not supported, a plain rename.
    func replace(_ target: String, with file: String) throws {
        if let exchange = renameat2Function, fileSize(atPath: target) != nil {
            if exchange(AT_FDCWD, file, AT_FDCWD, target, renameExchange) == 0 {
                unlink(file)
                return
            }
            guard errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP else {
                throw LFSError(.io, "cannot replace \(target): \(String(cString: strerror(errno)))")
            }
        }
        guard rename(file, target) == 0 else {
            throw LFSError(.io, "cannot replace \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// The absolute path of a tree path, refusing anything that could leave the work tree.
    func safePath(_ path: String) throws -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"),
              !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0 == ".git" }) else {
            throw LFSError(.io, "refusing the path '\(path)': it leaves the work tree")
        }
        return rootPath + "/" + path
    }
}

/// The bytes of a small file (a pointer candidate), or nil when it cannot be read.
private func readSmallFile(_ path: String) -> Data? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data = Data(count: Pointer.maximumFileSize)
    var total = 0
    while total < data.count {
        let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { break }
        total += n
    }
    return data.prefix(total)
}
