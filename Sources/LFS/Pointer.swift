import Foundation

/// A Git LFS pointer file (git-lfs docs/spec.md).
///
/// What is a pointer is decided exactly as git-lfs 3.x decides it, so msgit smudges the files git-lfs
/// smudges and leaves the others alone: the file is under 1024 bytes; surrounding whitespace and
/// blank lines are ignored and a line may end in CRLF; the keys are `version` (one of git-lfs's
/// three version URLs), then `oid` as `sha256:` and 64 lowercase hex digits, then `size` as a
/// non-negative decimal, with `ext-<digit>-<name>` extension lines allowed among them and nothing
/// else. Anything else is not a pointer. The oid is checked before it is ever used in a path.
public struct Pointer: Hashable, Sendable, CustomStringConvertible {
    /// The version URL git-lfs writes, and msgit too.
    public static let version = "https://git-lfs.github.com/spec/v1"
    /// Versions git-lfs reads but never writes (alpha and pre-release).
    static let legacyVersions = ["http://git-media.io/v/2", "https://hawser.github.com/spec/v1"]
    /// Pointer files are smaller than this.
    public static let maximumFileSize = 1024

    /// The SHA-256 of the content, 64 lowercase hex digits.
    public let oid: String
    /// The content's size in bytes.
    public let size: Int64
    /// Extension lines ("ext-0-name" -> "sha256:..."), in file order. Content behind extensions
    /// needs the extension's own smudge program, which msgit does not run.
    public let extensions: [(key: String, value: String)]

    /// A pointer to content of `size` bytes with SHA-256 `oid` (64 lowercase hex digits), without
    /// extensions; nil when the oid is malformed or the size negative.
    public init?(oid: String, size: Int64) {
        guard Self.isValidOID(oid), size >= 0 else { return nil }
        self.oid = oid
        self.size = size
        extensions = []
    }

    /// Parses a pointer file; nil unless `data` is one.
    public init?(_ data: Data) {
        guard data.count < Self.maximumFileSize, let text = String(data: data, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        let required = ["version", "oid", "size"]
        var values: [String: String] = [:]
        var extensions: [(String, String)] = []
        var next = 0
        // "\r\n" is one Character in Swift: split on both, as git-lfs's line scanner does.
        for line in trimmed.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            guard let space = line.firstIndex(of: " ") else { return nil }
            let key = String(line[..<space])
            let value = String(line[line.index(after: space)...])
            guard next < required.count else { return nil }  // a line after size
            if key == required[next] {
                values[key] = value
                next += 1
            } else if Self.isExtensionKey(key) {
                extensions.append((key, value))
            } else {
                return nil
            }
        }
        guard next == required.count, let version = values["version"],
              version == Self.version || Self.legacyVersions.contains(version),
              let oidValue = values["oid"], oidValue.hasPrefix("sha256:"),
              let sizeValue = values["size"], !sizeValue.isEmpty, sizeValue.utf8.count <= 18,
              sizeValue.utf8.allSatisfy({ (48...57).contains($0) }), let size = Int64(sizeValue) else { return nil }
        let oid = String(oidValue.dropFirst(7))
        guard Self.isValidOID(oid) else { return nil }
        self.oid = oid
        self.size = size
        self.extensions = extensions
    }

    /// "ext-<digit>-<word characters>", as git-lfs's extension keys.
    private static func isExtensionKey(_ key: String) -> Bool {
        let utf8 = Array(key.utf8)
        guard utf8.count > 6, key.hasPrefix("ext-"), (48...57).contains(utf8[4]), utf8[5] == UInt8(ascii: "-") else {
            return false
        }
        return utf8[6...].allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 }
    }

    /// The canonical pointer file for this pointer, as git-lfs writes it: version, extensions in
    /// order, oid, size.
    public var text: String {
        let lines = [("version", Self.version)] + extensions.sorted { $0.key < $1.key }
            + [("oid", "sha256:" + oid), ("size", String(size))]
        return lines.map { "\($0.0) \($0.1)\n" }.joined()
    }

    /// `text` as UTF-8: the bytes of the pointer file.
    public var data: Data { Data(text.utf8) }
    /// The oid's first 12 digits and the size, for messages.
    public var description: String { "\(oid.prefix(12))… (\(size) bytes)" }

    /// Whether `oid` is 64 lowercase hex digits: safe to use as a name in the store.
    public static func isValidOID(_ oid: String) -> Bool {
        oid.utf8.count == 64 && oid.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Equal when the oid, the size and the extensions, in order, are.
    public static func == (a: Pointer, b: Pointer) -> Bool {
        a.oid == b.oid && a.size == b.size && a.extensions.map(\.key) == b.extensions.map(\.key)
            && a.extensions.map(\.value) == b.extensions.map(\.value)
    }

    /// Hashes the oid and the size.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(oid)
        hasher.combine(size)
    }
}
