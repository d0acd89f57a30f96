import Foundation
import PathSafety

/// Replaces pointer files in a work tree with their verified content from the store.
///
/// A file is replaced only when it still holds its pointer (a file the user changed is left as
/// it is), by a file made under a temporary name in the same directory and renamed over it,
/// keeping the pointer file's mode. The work tree never holds a partial file.
///
/// Nothing is written through a symbolic link: each path is reached from the root one directory
/// at a time without following links (`PathSafety.Directory`), so a leading component that is a
/// link, or not a directory, fails that file ("not a directory"), and a link where the file
/// should be fails it too ("not a regular file"), as git-lfs 3.7.1 does since CVE-2025-26625. A
/// hard link in the pointer file's place is replaced, never written into.
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

    /// The work tree's root directory.
    public let root: URL
    /// The store the content comes from.
    public let store: ObjectStore
    /// How files get their content: copies (the default) or protected hard links.
    public let placement: Placement
    /// `root`'s path; per-file paths are built as strings (see `ObjectStore.rootPath`).
    private let rootPath: String

    /// The work tree at `root`, filled from `store`; nothing is read until a file is asked about.
    public init(root: URL, store: ObjectStore, placement: Placement = .copy) {
        self.root = root
        self.store = store
        self.placement = placement
        rootPath = root.standardizedFileURL.path.trimmingSuffix("/")
    }

    /// What a work-tree file holds, against the pointer its tree gives it.
    public enum State: Sendable, Equatable {
        /// The file holds its pointer: to be resolved.
        case pointer
        /// The file already has the object's content (by size; its content was verified when written).
        case resolved
        /// Missing, or changed by someone: left alone.
        case other
        /// The path leads through a symbolic link or a file where a directory must be, or the file
        /// itself is a link or not a regular file: msgit writes nothing there (the reason says why).
        case unsafe(String)
    }

    /// The directory that holds `path`'s file, reached from the root without following a link,
    /// and the file's name in it.
    func parent(of path: String) throws -> (Directory, String) {
        if let problem = PathRules.problem(withPath: path) {
            throw LFSError(.unsafePath, "refusing the path '\(path)': \(problem)")
        }
        let root = try lfs { try Directory.open(rootPath) }
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return (root, path) }
        let directory = try lfs { try root.subdirectory(path[..<slash]) }
        return (directory, String(path[path.utf8.index(after: slash)...]))
    }

    /// What the work tree holds at `file.path`: its pointer, its content (by size), something else, or
    /// a path msgit will not write through. Reads at most the first kilobyte of the file.
    public func state(of file: LFSFile) -> State {
        let directory: Directory, name: String
        do {
            (directory, name) = try parent(of: file.path)
        } catch let error as LFSError where error.kind == .unsafePath {
            return .unsafe(error.message)
        } catch {
            return .other
        }
        guard let st = directory.status(name) else { return .other }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .unsafe("not a regular file\(st.st_mode & S_IFMT == S_IFLNK ? " (a symbolic link)" : ""): \(directory.path)/\(name)")
        }
        let size = Int64(st.st_size)
        if size < Pointer.maximumFileSize, let fd = try? directory.openFile(name, O_RDONLY) {
            defer { close(fd) }
            if let found = Pointer(readSmall(fd)), found.oid == file.pointer.oid { return .pointer }
        }
        return size == file.pointer.size ? .resolved : .other
    }

    /// Puts the object's content at `file.path`. The object must be in the store. `copy`, a
    /// verified copy of the object made while it downloaded (`Fetcher.Options.makesCopies`), is
    /// moved into place when it can be, instead of copying the stored object.
    public func materialize(_ file: LFSFile, from copy: URL? = nil) throws {
        let (directory, name) = try parent(of: file.path)
        var mode: mode_t = 0o644
        if let st = directory.status(name) {
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw LFSError(.unsafePath, "not a regular file\(st.st_mode & S_IFMT == S_IFLNK ? " (a symbolic link)" : ""): "
                    + "\(directory.path)/\(name)")
            }
            mode = st.st_mode & 0o7777
        }
        if placement == .hardLink, try hardLink(file.pointer, at: name, in: directory, mode: mode) { return }
        if let copy, let scratch = try? store.scratch(at: copy), let st = scratch.directory.status(scratch.name),
           st.st_mode & S_IFMT == S_IFREG, Int64(st.st_size) == file.pointer.size,
           let fd = try? scratch.directory.openFile(scratch.name, O_RDONLY) {
            let moved = fchmod(fd, mode) == 0
            close(fd)
            let temporary = Self.temporaryName(for: name)
            if moved, (try? scratch.directory.rename(scratch.name, to: directory, as: temporary)) != nil {
                do {
                    try replace(name, with: temporary, in: directory)
                    return
                } catch {
                    directory.discard(temporary)
                    throw error
                }
            }
        }
        let input = try store.openObject(file.pointer.oid)
        defer { close(input) }
        try writeFile(name, in: directory, mode: mode, from: input, size: file.pointer.size, label: file.path)
    }

    /// A new file `name` in `directory` with `mode` and the content of `input` (a copy-on-write
    /// clone where the file system makes one, else a copy), replacing what is there.
    private func writeFile(_ name: String, in directory: Directory, mode: mode_t, from input: Int32, size: Int64,
                       label: String) throws {
        let temporary = Self.temporaryName(for: name)
        let output = try lfs { try directory.openFile(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode) }
        do {
            defer { close(output) }
            if try !Reflink.clone(from: input, to: output, name: "\(directory.path)/\(temporary)") {
                let room = try SpaceGuard.shared.reserve(size, on: URL(fileURLWithPath: directory.path),
                                                         purpose: "writing \(label)")
                defer { withExtendedLifetime(room) {} }
                try copyRange(from: input, to: output, count: size, at: 0, name: "\(directory.path)/\(temporary)")
            }
            try replace(name, with: temporary, in: directory)
        } catch {
            directory.discard(temporary)
            throw error
        }
    }

    /// Makes `name` in `directory` a hard link to the stored object, which becomes read-only
    /// (keeping the pointer file's executable bits). False when a link cannot be made here
    /// (another file system, too many links) or the object is already linked with other
    /// executable bits: the caller copies instead.
    private func hardLink(_ pointer: Pointer, at name: String, in directory: Directory, mode: mode_t) throws -> Bool {
        let objects = try store.objectDirectory(pointer.oid, create: false)
        let fd = try lfs { try objects.openFile(pointer.oid, O_RDONLY) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LFSError(.io, "cannot read \(pointer.oid): \(String(cString: strerror(errno)))") }
        let protected = (mode & 0o7777) & ~0o222
        let current = st.st_mode & 0o7777
        if current != protected {
            // Protected already, for a file with other executable bits: that file keeps the inode.
            if current & 0o222 == 0 { return false }
            guard fchmod(fd, protected) == 0 else { return false }
        }
        let temporary = Self.temporaryName(for: name)
        do {
            try directory.link(temporary, to: pointer.oid, in: objects)
        } catch {
            if error.errno == EXDEV || error.errno == EMLINK || error.errno == EPERM { return false }
            throw LFSError(.io, "cannot link \(directory.path)/\(name) to its object: \(error)")
        }
        do {
            try replace(name, with: temporary, in: directory)
        } catch {
            directory.discard(temporary)
            throw error
        }
        return true
    }

    /// Turns a work-tree file that is a protected link to its stored object (`.hardLink`) back into
    /// a file of its own that may be written, with the same content (a clone where the file system
    /// can make one) and the owner's write permission. False when `path` is not such a link. The
    /// stored object stays as it is, read-only.
    public func unprotect(_ path: String) throws -> Bool {
        let (directory, name) = try parent(of: path)
        guard let st = directory.status(name), st.st_mode & S_IFMT == S_IFREG, st.st_nlink > 1 else { return false }
        let input = try lfs { try directory.openFile(name, O_RDONLY) }
        defer { close(input) }
        try writeFile(name, in: directory, mode: (st.st_mode & 0o7777) | 0o200, from: input, size: Int64(st.st_size),
                  label: path)
        return true
    }

    /// Whether files made from the store here are copy-on-write clones (the store and the work
    /// tree on one file system that can clone): then nothing needs writing while objects download.
    public func clonesFromStore() -> Bool {
        guard let (probe, input) = try? store.createScratch("clone-probe") else { return false }
        defer {
            close(input)
            probe.directory.discard(probe.name)
        }
        guard Array("msgit".utf8).withUnsafeBytes({ pwrite(input, $0.baseAddress, $0.count, 0) }) == 5, let root = try? Directory.open(rootPath) else { return false }
        let name = ".msgit-clone-probe-\(UUID().uuidString.prefix(8))"
        guard let output = try? root.openFile(name, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600) else { return false }
        defer {
            close(output)
            root.discard(name)
        }
        return (try? Reflink.clone(from: input, to: output, name: name)) == true
    }

    /// ".<name>.msgit-<random>", for a file made beside `name`.
    static func temporaryName(for name: String) -> String {
        ".\(name).msgit-\(UUID().uuidString.prefix(8))"
    }

    /// Puts `file` at `name` in `directory` atomically (the name always gives the old or the new
    /// content).
    ///
    /// ext4 (with its default `auto_da_alloc`) makes a rename over an existing file allocate the
    /// incoming file's delayed blocks first, so that a crash cannot leave it empty: for a 1 GiB
    /// object that held the rename for 0.5 s. Exchanging the two names (`RENAME_EXCHANGE`) is just
    /// as atomic and skips that, after which the pointer file, now under the temporary name, is
    /// removed. Where exchange is not supported, a plain rename.
    func replace(_ name: String, with file: String, in directory: Directory) throws {
        if directory.status(name) != nil, try lfs({ try directory.exchange(file, with: name, in: directory) }) {
            directory.discard(file)
            return
        }
        try lfs { try directory.rename(file, to: directory, as: name) }
    }
}

/// Up to `Pointer.maximumFileSize` bytes of an open file (a pointer candidate).
private func readSmall(_ fd: Int32) -> Data {
    var data = Data(count: Pointer.maximumFileSize)
    var total = 0
    while total < data.count {
        let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
        if n < 0 {
            if errno == EINTR { continue }
            return Data()
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
