import Crypto
import Foundation
import Synchronization

/// Directories known to exist, so the hot path makes each one once per process (FileManager's
/// createDirectory costs a dozen system calls every time).
enum Directories {
    private static let known = Mutex<Set<String>>([])

    static func ensure(_ url: URL) throws {
        try ensure(url.path)
    }

    static func ensure(_ path: String) throws {
        if known.withLock({ $0.contains(path) }) { return }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            guard errno == ENOENT, let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex else {
                throw LFSError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            try ensure(String(path[..<slash]))
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw LFSError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        known.withLock { _ = $0.insert(path) }
    }
}

func fileSize(_ url: URL) -> Int64? {
    fileSize(atPath: url.path)
}

extension String {
    /// Without trailing slashes, except for "/" itself.
    func trimmingSuffix(_ suffix: Character) -> String {
        var result = self
        while result.count > 1, result.last == suffix { result.removeLast() }
        return result
    }
}

/// The size of the regular file at `path`; nil when there is none.
func fileSize(atPath path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
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
