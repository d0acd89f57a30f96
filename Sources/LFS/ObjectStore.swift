import Crypto
import Foundation
import Synchronization

/// LFS objects on disk, in git-lfs's layout, so git-lfs sees them as its own:
///
///     <git dir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>   verified objects
///     <git dir>/lfs/incomplete/<oid>.part                 downloads in progress (kept for resume)
///     <git dir>/lfs/tmp/                                  scratch, same file system as the above
///
/// An object enters `objects/` only by a rename of a file whose SHA-256 and size were checked.
public struct ObjectStore: Sendable {
    /// The `lfs` directory: `.git/lfs` in a work tree clone, `lfs` in a bare one.
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// The store of the repository whose git directory is `gitDirectory`.
    public init(gitDirectory: URL) {
        root = gitDirectory.appendingPathComponent("lfs", isDirectory: true)
    }

    public var objectsDirectory: URL { root.appendingPathComponent("objects", isDirectory: true) }
    public var incompleteDirectory: URL { root.appendingPathComponent("incomplete", isDirectory: true) }
    public var tmpDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    /// Where the object lives. `oid` must be valid (the `Pointer` type guarantees it).
    public func path(for oid: String) -> URL {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return objectsDirectory.appendingPathComponent(String(oid.prefix(2)), isDirectory: true)
            .appendingPathComponent(String(oid.dropFirst(2).prefix(2)), isDirectory: true)
            .appendingPathComponent(oid)
    }

    public func partialPath(for oid: String) -> URL {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return incompleteDirectory.appendingPathComponent(oid + ".part")
    }

    /// Whether the store holds the object with the right size (as git-lfs checks; content was
    /// verified when it entered).
    public func contains(_ pointer: Pointer) -> Bool {
        fileSize(path(for: pointer.oid)) == pointer.size
    }

    /// A new scratch file name in `tmp/` (nothing created).
    public func scratchFile(_ label: String) throws -> URL {
        try Directories.ensure(tmpDirectory)
        return tmpDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    }

    /// Removes scratch files older than `age` (left by killed runs; a live run's are younger).
    public func pruneScratch(olderThan age: TimeInterval = 3600) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: tmpDirectory.path) else { return }
        let limit = Date().addingTimeInterval(-age)
        for name in names {
            let url = tmpDirectory.appendingPathComponent(name)
            if let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date, modified < limit {
                try? fm.removeItem(at: url)
            }
        }
    }

    /// Moves a verified file into place. An object already there (another process, a rerun) wins.
    func insert(verified file: URL, for pointer: Pointer) throws {
        let destination = path(for: pointer.oid)
        try Directories.ensure(destination.deletingLastPathComponent())
        if contains(pointer) {
            try? FileManager.default.removeItem(at: file)
            return
        }
        guard rename(file.path, destination.path) == 0 else {
            throw LFSError(.io, "cannot move \(pointer.oid) into the LFS store: \(String(cString: strerror(errno)))")
        }
    }

    /// A file's SHA-256 (lowercase hex) and size, reading it once.
    static func digest(of file: URL) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        var size: Int64 = 0
        try Self.read(file) { bytes in
            hasher.update(bufferPointer: bytes)
            size += Int64(bytes.count)
        }
        return (hasher.finalize().hexString, size)
    }

    /// Calls `body` with the file's bytes from `offset` (`count` of them, or to the end), 4 MiB at a
    /// time; fewer than `count` is an error.
    static func read(_ file: URL, from offset: UInt64 = 0, count: Int64? = nil,
                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LFSError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let size = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var position = off_t(offset)
        var remaining = count ?? Int64.max
        while remaining > 0 {
            let n = pread(fd, buffer.baseAddress, Int(min(Int64(size), remaining)), position)
            if n < 0 {
                if errno == EINTR { continue }
                throw LFSError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                guard count == nil else { throw LFSError(.io, "cannot read \(file.path): it ends early") }
                return
            }
            remaining -= Int64(n)
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            position += off_t(n)
        }
    }
}

/// Directories known to exist, so the hot path makes each one once per process (FileManager's
/// createDirectory costs a dozen system calls every time).
enum Directories {
    private static let known = Mutex<Set<String>>([])

    static func ensure(_ url: URL) throws {
        let path = url.path
        if known.withLock({ $0.contains(path) }) { return }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            guard errno == ENOENT else {
                throw LFSError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            try ensure(url.deletingLastPathComponent())
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw LFSError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        known.withLock { _ = $0.insert(path) }
    }
}

func fileSize(_ url: URL) -> Int64? {
    var st = stat()
    guard stat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int64(st.st_size)
}

extension Digest {
    var hexString: String {
        var out = ""
        out.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return out
    }
}

private let hexDigits = Array("0123456789abcdef")
