import Foundation

/// A list of repositories to mirror: one per line, `#` comments and blank lines allowed.
public struct Manifest: Sendable {
    /// The repository URLs, short names expanded, in the order of the lines; not checked yet (a bad one
    /// fails its own mirror only).
    public var entries: [String]

    /// Parses `text`. With `baseURL`, `ns/name` lines become `<baseURL>/ns/name.git`; without it,
    /// short names expand as everywhere else (MSGIT_ENDPOINT, ModelScope).
    public init(_ text: String, baseURL: String? = nil) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { raw in
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { return nil }
            if let baseURL {
                // The base URL is for ModelScope-style lines; hf: lines keep HF_ENDPOINT.
                var environment = ProcessInfo.processInfo.environment
                environment["MSGIT_ENDPOINT"] = baseURL
                return ShortNames.expand(line, environment: environment)
            }
            return ShortNames.expand(line)
        }
    }

    /// The entries of shard `index` of `count` (0-based), chosen by a stable hash of each URL
    /// (without userinfo), so every entry is in exactly one shard whatever the order of the lines.
    public func shard(_ index: Int, of count: Int) -> [String] {
        precondition(count > 0 && (0..<count).contains(index))
        return entries.filter { Int(Self.stableHash(Self.identity($0)) % UInt64(count)) == index }
    }

    static func identity(_ entry: String) -> String {
        (try? RemoteURL(entry).string) ?? entry
    }

    /// FNV-1a, 64 bits: the same on every machine and every run (unlike Swift's `Hasher`).
    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
