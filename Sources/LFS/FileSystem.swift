import Crypto
import Foundation

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

/// The size of the regular file at `path`; nil when there is none (a link is not one).
func fileSize(atPath path: String) -> Int64? {
    var st = stat()
    guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
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
