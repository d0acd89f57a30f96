import Crypto
import Foundation
import PathSafety

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

    /// The store at `root`, an `lfs` directory or a shared store in git-lfs's layout (`lfs.storage`).
    /// Nothing is made on disk until an object is written.
    public init(root: URL) {
        self.root = root
        rootPath = root.standardizedFileURL.path.trimmingSuffix("/")
    }

    /// The store of the repository whose git directory is `gitDirectory`.
    public init(gitDirectory: URL) {
        self.init(root: gitDirectory.appendingPathComponent("lfs", isDirectory: true))
    }

    /// `objects/`: the verified objects, two levels of directories deep.
    public var objectsDirectory: URL { root.appendingPathComponent("objects", isDirectory: true) }
    /// `incomplete/`: downloads in progress, kept so that the next run resumes them.
    public var incompleteDirectory: URL { root.appendingPathComponent("incomplete", isDirectory: true) }
    /// `tmp/`: scratch files, on the same file system as the objects so that they can be renamed in.
    public var tmpDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }
    var incompletePath: String { rootPath + "/incomplete" }
    var tmpPath: String { rootPath + "/tmp" }

    /// Where the object lives. `oid` must be valid (the `Pointer` type guarantees it).
    public func path(for oid: String) -> URL {
        URL(fileURLWithPath: objectPath(oid), isDirectory: false)
    }

    func objectPath(_ oid: String) -> String {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return "\(rootPath)/\(objectDirectoryName(oid))/\(oid)"
    }


    /// Where a download of the object in progress is kept (`incomplete/<oid>.part`). `oid` must be
    /// valid (a precondition).
    public func partialPath(for oid: String) -> URL {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        return URL(fileURLWithPath: "\(incompletePath)/\(oid).part", isDirectory: false)
    }

    /// Whether the store holds the object with the right size (as git-lfs checks; content was
    /// verified when it entered). A link where the object should be is not the object.
    public func contains(_ pointer: Pointer) -> Bool {
        fileSize(atPath: objectPath(pointer.oid)) == pointer.size
    }

    // MARK: Directories, reached without following links

    /// The store's root, opened as given (the user or the repository's configuration chose it).
    func rootDirectory(create: Bool = true) throws -> Directory {
        if create {
            var st = stat()
            if stat(rootPath, &st) != 0 {
                try? FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
            }
        }
        return try lfs { try Directory.open(rootPath) }
    }

    /// A directory of the store (`tmp`, `incomplete`, `objects/1a/2b`), each component reached
    /// without following a link and made when missing: whoever else can write to a shared store
    /// cannot make msgit write elsewhere by planting a link in it.
    func directory(_ relative: String, create: Bool = true) throws -> Directory {
        let root = try rootDirectory(create: create)
        return try lfs { try root.subdirectory(relative, create: create) }
    }

    /// `objects/<oid[0:2]>/<oid[2:4]>`, relative to the root.
    private func objectDirectoryName(_ oid: String) -> String {
        precondition(Pointer.isValidOID(oid), "invalid oid used as a path")
        let utf8 = oid.utf8
        return "objects/" + String(decoding: utf8.prefix(2), as: UTF8.self) + "/"
            + String(decoding: utf8.dropFirst(2).prefix(2), as: UTF8.self)
    }

    func objectDirectory(_ oid: String, create: Bool = true) throws -> Directory {
        try directory(objectDirectoryName(oid), create: create)
    }

    /// The stored object, open for reading (a link in its place is refused).
    func openObject(_ oid: String) throws -> Int32 {
        let directory = try objectDirectory(oid, create: false)
        return try lfs { try directory.openFile(oid, O_RDONLY) }
    }

    /// A file of this store's own (in `tmp/` or `incomplete/`): its directory and name.
    struct Scratch: Sendable {
        let directory: Directory
        let name: String
        var url: URL { URL(fileURLWithPath: directory.path + "/" + name, isDirectory: false) }
    }

    /// A new, empty scratch file in `tmp/`, open for reading and writing.
    func createScratch(_ label: String) throws -> (Scratch, fd: Int32) {
        let tmp = try directory("tmp")
        let name = "\(label)-\(UUID().uuidString)"
        let fd = try lfs { try tmp.openFile(name, O_RDWR | O_CREAT | O_EXCL, mode: 0o644) }
        return (Scratch(directory: tmp, name: name), fd)
    }

    /// The scratch file at `url`, which must be one of this store's (`tmp/` or `incomplete/`).
    func scratch(at url: URL) throws -> Scratch {
        let parent = url.deletingLastPathComponent().standardizedFileURL.path.trimmingSuffix("/")
        guard parent == tmpPath || parent == incompletePath else {
            throw LFSError(.io, "\(url.path) is not a file of the LFS store at \(rootPath)")
        }
        return Scratch(directory: try directory(parent == tmpPath ? "tmp" : "incomplete"), name: url.lastPathComponent)
    }

    /// Removes a scratch file of this store (nothing there is not an error).
    public func discard(_ url: URL) {
        guard let scratch = try? scratch(at: url) else { return }
        scratch.directory.discard(scratch.name)
    }

    /// Renames a scratch file of this store within its directory; nil when it could not be.
    public func rename(_ url: URL, to name: String) -> URL? {
        guard let scratch = try? scratch(at: url), (try? scratch.directory.rename(scratch.name, to: scratch.directory, as: name)) != nil
        else { return nil }
        return URL(fileURLWithPath: scratch.directory.path + "/" + name, isDirectory: false)
    }

    /// Removes scratch files older than `age` (left by killed runs; a live run's are younger).
    /// Only regular files directly in `tmp/`, by their names there: a link in `tmp/`'s place
    /// leads nowhere.
    public func pruneScratch(olderThan age: TimeInterval = 3600) {
        guard let tmp = try? directory("tmp", create: false) else { return }
        let limit = Int(Date().timeIntervalSince1970 - age)
        for (name, _) in tmp.entries() {
            guard let st = tmp.status(name), st.st_mode & S_IFMT == S_IFREG, Int(st.st_mtim.tv_sec) < limit else { continue }
            tmp.discard(name)
        }
    }

    /// Moves a verified file into place. An object already there (another process, a rerun) wins.
    func insert(verified file: URL, for pointer: Pointer) throws {
        let scratch = try scratch(at: file)
        try insert(scratch.name, in: scratch.directory, for: pointer)
    }

    func insert(_ name: String, in source: Directory, for pointer: Pointer) throws {
        let objects = try objectDirectory(pointer.oid)
        if let st = objects.status(pointer.oid), st.st_mode & S_IFMT == S_IFREG, Int64(st.st_size) == pointer.size {
            source.discard(name)
            return
        }
        do {
            try source.rename(name, to: objects, as: pointer.oid)
        } catch {
            throw LFSError(.io, "cannot move \(pointer.oid) into the LFS store: \(error)")
        }
    }

    /// Makes an object of `shared` (a store many repositories share) one of this store's too: a hard
    /// link (stored objects are never written, so one file can serve every repository), or a copy
    /// where the two are on different file systems. Nothing happens when this store has it.
    public func adopt(_ pointer: Pointer, from shared: ObjectStore) throws {
        guard !contains(pointer) else { return }
        let source = try shared.objectDirectory(pointer.oid, create: false)
        let objects = try objectDirectory(pointer.oid)
        var failure: FileError?
        do {
            try objects.link(pointer.oid, to: pointer.oid, in: source)
        } catch {
            failure = error
        }
        if let failure, failure.errno != EXDEV && failure.errno != EMLINK {
            if failure.errno == EEXIST { return }
            throw LFSError(.io, "cannot link \(pointer.oid) from the shared store: \(failure)")
        }
        if failure == nil { return }
        let input = try lfs { try source.openFile(pointer.oid, O_RDONLY) }
        defer { close(input) }
        let (scratch, output) = try createScratch(pointer.oid)
        do {
            defer { close(output) }
            try copyRange(from: input, to: output, count: pointer.size, at: 0, name: scratch.url.path)
            try insert(scratch.name, in: scratch.directory, for: pointer)
        } catch {
            scratch.directory.discard(scratch.name)
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
        guard let objects = try? objectDirectory(oid, create: false) else { return }
        try lfs { try objects.remove(oid) }
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
        let fd = open(file.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw LFSError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try read(fd: fd, name: file.path, from: offset, count: count, body)
    }

    /// `read`, from an open file.
    static func read(fd: Int32, name: String, from offset: UInt64 = 0, count: Int64? = nil,
                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = URL(fileURLWithPath: name)
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

/// `body`, with a `FileError` turned into an `LFSError` of kind `.io` (or `.unsafePath` for a
/// link or a file where a directory must be).
func lfs<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as FileError {
        throw LFSError(error.isNotADirectory || error.errno == ELOOP ? .unsafePath : .io, error.description)
    }
}
