import Crypto
import Foundation

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
    /// `root`'s path. The per-object paths are built as strings: Foundation's URL parses the
    /// whole path again on every `appendingPathComponent` and `path`, which made path building
    /// a tenth of the CPU time of a pull of 1,000 small objects.
    let rootPath: String

    public init(root: URL) {
        self.root = root
        rootPath = root.standardizedFileURL.path.trimmingSuffix("/")
    }

    /// The store of the repository whose git directory is `gitDirectory`.
    public init(gitDirectory: URL) {
        self.init(root: gitDirectory.appendingPathComponent("lfs", isDirectory: true))
    }

    public var objectsDirectory: URL { root.appendingPathComponent("objects", isDirectory: true) }
    public var incompleteDirectory: URL { root.appendingPathComponent("incomplete", isDirectory: true) }
    public var tmpDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }
    var incompletePath: String { rootPath + "/incomplete" }
    var tmpPath: String { rootPath + "/tmp" }

    /// Where the object lives. `oid` must be valid (the `Pointer` type guarantees it).
    public func path(for oid: String) -> URL {
        URL(fileURLWithPath: objectPath(oid), isDirectory: false)
    }

    func objectPath(_ oid: String) -> String {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return "\(objectDirectoryPath(oid))/\(oid)"
    }

    /// `objects/<oid[0:2]>/<oid[2:4]>`.
    private func objectDirectoryPath(_ oid: String) -> String {
        let utf8 = oid.utf8
        let first = String(decoding: utf8.prefix(2), as: UTF8.self)
        let second = String(decoding: utf8.dropFirst(2).prefix(2), as: UTF8.self)
        return "\(rootPath)/objects/\(first)/\(second)"
    }

    public func partialPath(for oid: String) -> URL {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return URL(fileURLWithPath: "\(incompletePath)/\(oid).part", isDirectory: false)
    }

    /// Whether the store holds the object with the right size (as git-lfs checks; content was
    /// verified when it entered).
    public func contains(_ pointer: Pointer) -> Bool {
        fileSize(atPath: objectPath(pointer.oid)) == pointer.size
    }

    /// A new scratch file name in `tmp/` (nothing created).
    public func scratchFile(_ label: String) throws -> URL {
        try Directories.ensure(tmpPath)
        return URL(fileURLWithPath: "\(tmpPath)/\(label)-\(UUID().uuidString)", isDirectory: false)
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
        try Directories.ensure(objectDirectoryPath(pointer.oid))
        let destination = objectPath(pointer.oid)
        if fileSize(atPath: destination) == pointer.size {
            unlink(file.path)
            return
        }
        guard rename(file.path, destination) == 0 else {
            throw LFSError(.io, "cannot move \(pointer.oid) into the LFS store: \(String(cString: strerror(errno)))")
        }
    }

    /// Makes an object of `shared` (a store many repositories share) one of this store's too: a hard
    /// link (stored objects are never written, so one file can serve every repository), or a copy
    /// where the two are on different file systems. Nothing happens when this store has it.
    public func adopt(_ pointer: Pointer, from shared: ObjectStore) throws {
        guard !contains(pointer) else { return }
        try Directories.ensure(objectDirectoryPath(pointer.oid))
        let source = shared.objectPath(pointer.oid)
        if link(source, objectPath(pointer.oid)) == 0 || errno == EEXIST { return }
        guard errno == EXDEV || errno == EMLINK else {
            throw LFSError(.io, "cannot link \(pointer.oid) from the shared store: \(String(cString: strerror(errno)))")
        }
        let scratch = try scratchFile(pointer.oid)
        do {
            try copyFile(from: URL(fileURLWithPath: source), to: scratch, mode: 0o644)
            try insert(verified: scratch, for: pointer)
        } catch {
            unlink(scratch.path)
            throw error
        }
    }

    /// Every object file in the store (`objects/xx/yy/<oid>`), by oid, with its size.
    public func objects() -> [(oid: String, size: Int64)] {
        let base = rootPath + "/objects"
        var found: [(String, Int64)] = []
        let fm = FileManager.default
        for first in (try? fm.contentsOfDirectory(atPath: base)) ?? [] where first.count == 2 {
            for second in (try? fm.contentsOfDirectory(atPath: "\(base)/\(first)")) ?? [] where second.count == 2 {
                for name in (try? fm.contentsOfDirectory(atPath: "\(base)/\(first)/\(second)")) ?? [] {
                    guard Pointer.isValidOID(name), name.hasPrefix(first + second),
                          let size = fileSize(atPath: "\(base)/\(first)/\(second)/\(name)") else { continue }
                    found.append((name, size))
                }
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Removes an object from this store (not from a shared store it may be linked to).
    public func remove(_ oid: String) throws {
        guard unlink(objectPath(oid)) == 0 || errno == ENOENT else {
            throw LFSError(.io, "cannot remove \(oid): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether the object's SHA-256 and size still match its name.
    public func verify(_ pointer: Pointer) throws -> Bool {
        try pointer.matchesContent(of: path(for: pointer.oid))
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
