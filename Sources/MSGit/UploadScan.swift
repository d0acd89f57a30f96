import Crypto
import Foundation
import GitCore
import LFS

/// The files of the folder to publish.
enum UploadScan {
    struct File: Sendable {
        var url: URL
        var repoPath: String
        var size: Int64
        var executable: Bool
    }

    /// Regular files under `folder` (not `.git` directories; symbolic links are refused), with their
    /// paths in the repository.
    static func files(in folder: URL, pathInRepo: String) throws -> [File] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MSGitError(.invalidArgument, "'\(folder.path)' is not a directory")
        }
        let prefix = pathInRepo.split(separator: "/").filter { !$0.isEmpty }.joined(separator: "/")
        guard !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." || $0 == ".git" }) else {
            throw MSGitError(.invalidArgument, "invalid --path-in-repo '\(pathInRepo)'")
        }
        var files: [File] = []
        let root = folder.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            if relative == ".git" || relative.hasSuffix("/.git") {
                walker.skipDescendants()
                continue
            }
            let path = root + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                continue
            case S_IFREG:
                let repoPath = prefix.isEmpty ? relative : prefix + "/" + relative
                files.append(File(url: URL(fileURLWithPath: path), repoPath: repoPath, size: Int64(st.st_size),
                                  executable: st.st_mode & 0o100 != 0))
            default:
                throw MSGitError(.invalidArgument, "'\(path)' is not a regular file (symbolic links and devices are not uploaded)")
            }
        }
        guard !files.isEmpty else { throw MSGitError(.invalidArgument, "'\(folder.path)' has no files to upload") }
        return files.sorted { $0.repoPath < $1.repoPath }
    }

    /// The LFS pointers of `files`, hashed `jobs` at a time on threads of their own.
    static func hash(_ files: [File], jobs: Int) async throws -> [Pointer] {
        try await withThrowingTaskGroup(of: (Int, Pointer).self) { group in
            var next = 0
            func add() {
                guard next < files.count else { return }
                let (index, file) = (next, files[next])
                next += 1
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        DispatchQueue.global().async {
                            continuation.resume(with: Result { (index, try pointer(for: file.url)) })
                        }
                    }
                }
            }
            for _ in 0..<max(1, jobs) { add() }
            var pointers = [Pointer?](repeating: nil, count: files.count)
            while let (index, pointer) = try await group.next() {
                pointers[index] = pointer
                add()
            }
            return pointers.map { $0! }
        }
    }

    static func pointer(for file: URL) throws -> Pointer {
        var hasher = SHA256()
        var size: Int64 = 0
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MSGitError(.io, "cannot read '\(file.path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw MSGitError(.io, "cannot read '\(file.path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Pointer(oid: hex, size: size)!
    }
}
