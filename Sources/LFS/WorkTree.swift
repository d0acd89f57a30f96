import Foundation

/// Replaces pointer files in a work tree with their verified content from the store.
///
/// A file is replaced only when it still holds its pointer (a file the user changed is left as
/// it is), by a file made under a temporary name in the same directory and renamed over it,
/// keeping the pointer file's mode. The work tree never holds a partial file.
public struct WorkTree: Sendable {
    /// How a work-tree file gets its content from the store.
    public enum Placement: Sendable, Equatable {
        /// A file of its own: a copy-on-write clone of the stored object where the file system can
        /// make one (one physical copy, two independent files), else a copy.
        case copy
        /// The stored object itself, by a hard link, made read-only (DVC's "protected" link):
        /// one copy on disk and no write to the data. `unprotect` turns it into a file of its own.
        /// Where a link cannot be made (another file system), a copy as `.copy` makes it.
        case hardLink
    }

    public let root: URL
    public let store: ObjectStore
    public let placement: Placement
    /// `root`'s path; per-file paths are built as strings (see `ObjectStore.rootPath`).
    private let rootPath: String

    public init(root: URL, store: ObjectStore, placement: Placement = .copy) {
        self.root = root
        self.store = store
        self.placement = placement
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
    /// verified copy of the object made while it downloaded (`Fetcher.Options.copyDirectory`), is
    /// moved into place when it can be, instead of copying the stored object.
    public func materialize(_ file: LFSFile, from copy: URL? = nil) throws {
        let target = try safePath(file.path)
        var st = stat()
        let mode: mode_t = stat(target, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        let object = store.objectPath(file.pointer.oid)
        if placement == .hardLink, try hardLink(object, at: target, mode: mode) { return }
        if let copy {
            let copyPath = copy.path
            if fileSize(atPath: copyPath) == file.pointer.size, chmod(copyPath, mode) == 0,
               (try? replace(target, with: copyPath)) != nil {
                return
            }
        }
        let temporary = Self.temporaryName(beside: target)
        do {
            if try !Reflink.clone(object, to: temporary, mode: mode) {
                let room = try SpaceGuard.shared.reserve(file.pointer.size, on: URL(fileURLWithPath: target),
                                                         purpose: "writing \(file.path)")
                defer { withExtendedLifetime(room) {} }
                try copyFile(from: URL(fileURLWithPath: object), to: URL(fileURLWithPath: temporary), mode: mode)
            }
            try replace(target, with: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Makes `target` a hard link to the stored `object`, which becomes read-only (keeping the
    /// pointer file's executable bits). False when a link cannot be made here (another file
    /// system, too many links) or the object is already linked with other executable bits: the
    /// caller copies instead.
    private func hardLink(_ object: String, at target: String, mode: mode_t) throws -> Bool {
        var st = stat()
        guard stat(object, &st) == 0 else { throw LFSError(.io, "cannot read \(object): \(String(cString: strerror(errno)))") }
        let protected = (mode & 0o7777) & ~0o222
        let current = st.st_mode & 0o7777
        if current != protected {
            // Protected already, for a file with other executable bits: that file keeps the inode.
            if current & 0o222 == 0 { return false }
            guard chmod(object, protected) == 0 else { return false }
        }
        let temporary = Self.temporaryName(beside: target)
        guard link(object, temporary) == 0 else {
            if errno == EXDEV || errno == EMLINK || errno == EPERM { return false }
            throw LFSError(.io, "cannot link \(target) to its object: \(String(cString: strerror(errno)))")
        }
        do {
            try replace(target, with: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        return true
    }

    /// Turns a work-tree file that is a protected link to its stored object (`.hardLink`) back into
    /// a file of its own that may be written, with the same content (a clone where the file system
    /// can make one) and the owner's write permission. False when `path` is not such a link. The
    /// stored object stays as it is, read-only.
    public func unprotect(_ path: String) throws -> Bool {
        let target = try safePath(path)
        var st = stat()
        guard stat(target, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink > 1 else { return false }
        let mode = (st.st_mode & 0o7777) | 0o200
        let temporary = Self.temporaryName(beside: target)
        do {
            if try !Reflink.clone(target, to: temporary, mode: mode) {
                try copyFile(from: URL(fileURLWithPath: target), to: URL(fileURLWithPath: temporary), mode: mode)
            }
            try replace(target, with: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        return true
    }

    /// Whether files made from the store here are copy-on-write clones (the store and the work
    /// tree on one file system that can clone): then nothing needs writing while objects download.
    public func clonesFromStore() -> Bool {
        guard let probe = try? store.scratchFile("clone-probe") else { return false }
        defer { unlink(probe.path) }
        guard FileManager.default.createFile(atPath: probe.path, contents: Data("msgit".utf8)) else { return false }
        let target = rootPath + "/.msgit-clone-probe-\(UUID().uuidString.prefix(8))"
        defer { unlink(target) }
        return (try? Reflink.clone(probe.path, to: target, mode: 0o600)) == true
    }

    /// ".<name>.msgit-<random>" in the directory of `target`.
    static func temporaryName(beside target: String) -> String {
        let slash = target.utf8.lastIndex(of: UInt8(ascii: "/"))!
        return "\(target[..<slash])/.\(target[target.utf8.index(after: slash)...]).msgit-\(UUID().uuidString.prefix(8))"
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

extension WorkTree {
    /// How many of the file's bytes are in extents it shares with another file (a copy-on-write
    /// clone of its object); 0 where the file system does not say.
    public static func sharedBytes(_ path: String) -> Int64 {
        Reflink.sharedBytes(path)
    }
}
