#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open directory, and the file operations msgit makes inside one: relative to its
/// descriptor, never following a symbolic link (`openat` with `O_NOFOLLOW`, `renameat`,
/// `unlinkat`, `linkat`, `fstatat` with `AT_SYMLINK_NOFOLLOW`).
///
/// A path from a repository (`models/part-1.bin`) is reached one component at a time from the
/// work tree's root (`subdirectory(_:create:)`): a component that is a symbolic link, or not a
/// directory, stops the walk with `FileError.notADirectory` instead of leading somewhere else,
/// and a file is created or replaced only by a name inside a directory reached that way. The
/// root itself is opened as given (`open(_:)`): the user chose it, links and all.
///
/// git does the same with `lstat` on every leading component (`symlinks.c`); git-lfs 3.7.1 does it
/// since CVE-2025-26625.
public final class Directory: Sendable {
    // Sendable: the descriptor is immutable and every operation is one system call on it, which
    // the kernel makes safe from any thread.
    public let descriptor: Int32
    /// The path it was reached by, for messages.
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens the directory at `path`, following links in `path` itself.
    public static func open(_ path: String) throws(FileError) -> Directory {
        let fd = systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(errno: errno, operation: "cannot open the directory", path: path) }
        return Directory(descriptor: fd, path: path)
    }

    /// The directory at `relative` (slash-separated components, no empty, `.` or `..` one) below
    /// this one, reached without following a link; with `create`, missing directories are made
    /// (mode 0755 before the umask).
    public func subdirectory(_ relative: some StringProtocol, create: Bool = false) throws(FileError) -> Directory {
        var current = self
        for component in relative.split(separator: "/", omittingEmptySubsequences: false) {
            current = try current.child(String(component), create: create)
        }
        return current
    }

    /// One level down: `name` must be a directory here, not a link to one.
    public func child(_ name: String, create: Bool = false) throws(FileError) -> Directory {
        let full = path + "/" + name
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")) else {
            throw FileError(errno: EINVAL, operation: "refusing the directory name", path: full)
        }
        var fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno == ENOENT && create {
            if mkdirat(descriptor, name, 0o755) != 0 && errno != EEXIST {
                throw FileError(errno: errno, operation: "cannot create the directory", path: full)
            }
            fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard fd >= 0 else {
            // O_NOFOLLOW on a link gives ELOOP, O_DIRECTORY on anything else ENOTDIR.
            let reason = errno
            if reason == ELOOP || reason == ENOTDIR {
                throw FileError(errno: ENOTDIR, operation: isLink(name) ? "not a directory (a symbolic link)" : "not a directory",
                                path: full)
            }
            throw FileError(errno: reason, operation: "cannot open the directory", path: full)
        }
        return Directory(descriptor: fd, path: full)
    }

    /// Opens the file `name` here with `flags` (plus `O_NOFOLLOW` and `O_CLOEXEC`): a link at
    /// `name` is refused (`FileError.notARegularFile`), never followed. With `O_CREAT`, `mode` is
    /// set exactly (`fchmod`, so the umask does not change it).
    public func openFile(_ name: String, _ flags: Int32, mode: mode_t = 0o644) throws(FileError) -> Int32 {
        let fd = openat(descriptor, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let reason = errno
            if reason == ELOOP { throw FileError(errno: reason, operation: "not a regular file (a symbolic link)", path: path + "/" + name) }
            throw FileError(errno: reason, operation: "cannot open", path: path + "/" + name)
        }
        if flags & O_CREAT != 0 { fchmod(fd, mode) }
        return fd
    }

    /// `name`'s status, without following a link; nil when there is nothing of that name.
    public func status(_ name: String) -> stat? {
        var st = stat()
        return fstatat(descriptor, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    public func isLink(_ name: String) -> Bool {
        status(name).map { $0.st_mode & S_IFMT == S_IFLNK } ?? false
    }

    /// Renames `name` here to `newName` in `directory` (replacing what is there, a link itself
    /// and not what it points to).
    public func rename(_ name: String, to directory: Directory, as newName: String) throws(FileError) {
        guard renameat(descriptor, name, directory.descriptor, newName) == 0 else {
            throw FileError(errno: errno, operation: "cannot rename \(name) to", path: directory.path + "/" + newName)
        }
    }

    /// Swaps `name` here and `other` in `directory` atomically (`renameat2(RENAME_EXCHANGE)`).
    /// False when the file system or kernel does not support it; throws for other errors.
    public func exchange(_ name: String, with other: String, in directory: Directory) throws(FileError) -> Bool {
        guard let renameat2 = Self.renameat2 else { return false }
        if renameat2(descriptor, name, directory.descriptor, other, Self.renameExchange) == 0 { return true }
        if errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP { return false }
        throw FileError(errno: errno, operation: "cannot replace", path: directory.path + "/" + other)
    }

    /// Removes the file (or link) `name` here; nothing there is not an error.
    public func remove(_ name: String) throws(FileError) {
        guard unlinkat(descriptor, name, 0) == 0 || errno == ENOENT else {
            throw FileError(errno: errno, operation: "cannot remove", path: path + "/" + name)
        }
    }

    /// Removes `name` here, ignoring every error (clean-up on a way out).
    public func discard(_ name: String) {
        unlinkat(descriptor, name, 0)
    }

    /// Makes `newName` here a hard link to `name` in `directory` (the file itself if `name` is a
    /// link: `linkat` without `AT_SYMLINK_FOLLOW`).
    public func link(_ newName: String, to name: String, in directory: Directory) throws(FileError) {
        guard linkat(directory.descriptor, name, descriptor, newName, 0) == 0 else {
            throw FileError(errno: errno, operation: "cannot link \(directory.path)/\(name) as", path: path + "/" + newName)
        }
    }

    /// The names in this directory (not `.` and `..`), with their types as `d_type` gives them.
    public func entries() -> [(name: String, type: UInt8)] {
        let copy = dup(descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var found: [(String, UInt8)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { found.append((name, entry.pointee.d_type)) }
        }
        return found
    }

    /// renameat2(2), looked up at run time: Glibc's Swift module does not export it.
    static let renameat2: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
    }()
    static let renameExchange: UInt32 = 1 << 1
}

private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}

/// A failed file operation: what was tried, on which path, and the system's reason.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errno: Int32
    /// "cannot open", "not a directory (a symbolic link)", ...
    public var operation: String
    public var path: String

    public init(errno: Int32, operation: String, path: String) {
        self.errno = errno
        self.operation = operation
        self.path = path
    }

    /// A leading component of a path was a link or not a directory.
    public var isNotADirectory: Bool { errno == ENOTDIR }

    public var description: String {
        if errno == ENOTDIR || errno == ELOOP { return "\(operation): \(path)" }
        return "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}
