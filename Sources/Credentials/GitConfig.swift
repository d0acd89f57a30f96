import Foundation

/// git's configuration, read from git's files in git's order, without running git.
///
/// The files, as git's `do_git_config_sequence` reads them (later ones win for single values;
/// multi-valued keys such as `credential.helper` accumulate in this order):
///
/// 1. the system file: `GIT_CONFIG_SYSTEM`, else `/etc/gitconfig`; skipped when
///    `GIT_CONFIG_NOSYSTEM` is true. (A git built with another prefix, such as Homebrew's or
///    Xcode's, has its system file elsewhere; set `GIT_CONFIG_SYSTEM` to name it.)
/// 2. `$XDG_CONFIG_HOME/git/config` (default `~/.config/git/config`), then `~/.gitconfig`; both
///    replaced by `GIT_CONFIG_GLOBAL` when it is set.
/// 3. the repository's `config`, when a git directory is given and it is owned by the current
///    user (git refuses a repository owned by someone else unless `safe.directory` names it;
///    msgit does not read `safe.directory` and skips such a file).
/// 4. `GIT_CONFIG_COUNT` pairs `GIT_CONFIG_KEY_<n>` / `GIT_CONFIG_VALUE_<n>`.
///
/// A missing or unreadable file is skipped, as git skips it. `include.path` is followed where it
/// appears (relative to the including file, `~/` expanded, at most 10 deep as in git; a missing
/// file is skipped). `includeIf` sections are not followed: their conditions (`gitdir:`,
/// `onbranch:`, `hasconfig:`) are about a repository, and msgit reads git's configuration for a
/// URL, mostly with no repository at all, where git finds none of them true either.
/// `GIT_CONFIG_PARAMETERS` (what `git -c` passes to git's children) is not read.
///
/// The environment and the home directory are parameters, so that tests and services read
/// exactly the files they mean to.
public struct GitConfig: Sendable, Equatable {
    /// One `name = value`, as git hands it to its callbacks.
    public struct Entry: Sendable, Equatable {
        /// `section[.subsection].key`, the section and key lowercased, the subsection as written.
        public var name: String
        /// `nil` for a key written without `=` (a boolean true).
        public var value: String?
        /// Where it was read, for messages: "file /home/u/.gitconfig line 3", "GIT_CONFIG_KEY_0".
        public var origin: String

        /// An entry with every field given; `name` as git spells it canonically (section and key
        /// lowercased).
        public init(name: String, value: String?, origin: String) {
            self.name = name
            self.value = value
            self.origin = origin
        }

        /// The section, lowercased: what precedes the first dot.
        public var section: Substring { name.prefix { $0 != "." } }
        /// The key, lowercased: what follows the last dot.
        public var key: Substring { name[name.index(after: name.lastIndex(of: ".") ?? name.startIndex)...] }
        /// What lies between the section and the key, if anything (case kept).
        public var subsection: Substring? {
            guard let first = name.firstIndex(of: "."), let last = name.lastIndex(of: "."), first < last else { return nil }
            return name[name.index(after: first)..<last]
        }
    }

    /// Every entry of every file, in git's order.
    public var entries: [Entry]

    /// A configuration of these entries, in this order, as a test builds one.
    public init(entries: [Entry]) { self.entries = entries }

    /// git's configuration as git would read it with `environment` and `home`, plus the
    /// repository's own file when `gitDirectory` (a `.git` directory) is given.
    public static func load(environment: [String: String], home: URL?, gitDirectory: URL? = nil) throws(MSGitError)
        -> GitConfig {
        var reader = Reader(home: home)
        for file in files(environment: environment, home: home) {
            try reader.read(file: file, depth: 0)
        }
        if let gitDirectory {
            let file = gitDirectory.appendingPathComponent("config")
            var status = stat()
            if stat(file.path, &status) == 0, status.st_uid == geteuid() {
                try reader.read(file: file, depth: 0)
            }
        }
        try reader.readEnvironment(environment)
        return GitConfig(entries: reader.entries)
    }

    /// The system, XDG and global files git would read, in order (whether or not they exist).
    public static func files(environment: [String: String], home: URL?) -> [URL] {
        var files: [URL] = []
        if !((try? parseBool(environment["GIT_CONFIG_NOSYSTEM"] ?? "false")) ?? false) {
            files.append(URL(fileURLWithPath: environment["GIT_CONFIG_SYSTEM"] ?? "/etc/gitconfig"))
        }
        if let global = environment["GIT_CONFIG_GLOBAL"] {
            if !global.isEmpty { files.append(URL(fileURLWithPath: global)) }
        } else {
            if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
                files.append(URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("git/config"))
            } else if let home {
                files.append(home.appendingPathComponent(".config/git/config"))
            }
            if let home { files.append(home.appendingPathComponent(".gitconfig")) }
        }
        return files
    }

    /// The values of `name` (canonical: section and key lowercased), in order.
    public func values(of name: String) -> [String?] {
        entries.filter { $0.name == name }.map(\.value)
    }

    /// git's `git_parse_maybe_bool`: no value, `true`, `yes`, `on` or a non-zero integer is
    /// true; an empty value, `false`, `no`, `off` or 0 is false; anything else is an error.
    package static func parseBool(_ value: String?) throws(BoolError) -> Bool {
        guard let value else { return true }
        switch value.lowercased() {
        case "": return false
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            guard let number = parseInteger(value) else { throw BoolError() }
            return number != 0
        }
    }

    package struct BoolError: Error {}

    /// git's `git_parse_int`: decimal with an optional sign and a `k`, `m` or `g` suffix.
    private static func parseInteger(_ text: String) -> Int64? {
        var digits = Substring(text)
        var factor: Int64 = 1
        switch digits.last?.lowercased() {
        case "k": factor = 1 << 10
        case "m": factor = 1 << 20
        case "g": factor = 1 << 30
        default: break
        }
        if factor != 1 { digits = digits.dropLast() }
        guard let number = Int64(digits) else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }

    /// git's `git_config_parse_key`: `section[.subsection].key` with the section and the key
    /// lowercased and checked; nil for a key git refuses.
    package static func canonicalKey(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")), lastDot > 0, lastDot + 1 < bytes.count else { return nil }
        var out: [UInt8] = []
        var seenDot = false
        for (i, byte) in bytes.enumerated() {
            var c = byte
            if c == UInt8(ascii: ".") { seenDot = true }
            if !seenDot || i > lastDot {
                guard GitConfigParser.isKeyChar(c), i != lastDot + 1 || GitConfigParser.isAlpha(c) else { return nil }
                c = GitConfigParser.lower(c)
            } else if c == UInt8(ascii: "\n") {
                return nil
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads files and their includes into `entries`.
    private struct Reader {
        static let maxIncludeDepth = 10
        let home: URL?
        var entries: [Entry] = []

        init(home: URL?) { self.home = home }

        mutating func read(file: URL, depth: Int) throws(MSGitError) {
            guard let data = FileManager.default.contents(atPath: file.path) else { return }
            let items: [GitConfigParser.Item]
            do {
                items = try GitConfigParser.parse(Array(data))
            } catch {
                throw MSGitError(.invalidArgument, "bad config line \(error.line) in file \(file.path)",
                                 hint: "git refuses to run with this file too; correct or remove that line")
            }
            for item in items {
                let origin = "file \(file.path) line \(item.line)"
                entries.append(Entry(name: item.name, value: item.value, origin: origin))
                if item.name == "include.path" {
                    try include(item.value, from: file, origin: origin, depth: depth)
                }
            }
        }

        mutating func readEnvironment(_ environment: [String: String]) throws(MSGitError) {
            guard let countText = environment["GIT_CONFIG_COUNT"] else { return }
            guard let count = UInt(countText.isEmpty ? "0" : countText), count <= Int32.max else {
                throw MSGitError(.invalidArgument, "bogus count in GIT_CONFIG_COUNT")
            }
            for i in 0..<Int(count) {
                guard let key = environment["GIT_CONFIG_KEY_\(i)"] else {
                    throw MSGitError(.invalidArgument, "missing config key GIT_CONFIG_KEY_\(i)")
                }
                guard let value = environment["GIT_CONFIG_VALUE_\(i)"] else {
                    throw MSGitError(.invalidArgument, "missing config value GIT_CONFIG_VALUE_\(i)")
                }
                guard let name = canonicalKey(key) else {
                    throw MSGitError(.invalidArgument, "invalid key in GIT_CONFIG_KEY_\(i)")
                }
                let origin = "GIT_CONFIG_KEY_\(i)"
                entries.append(Entry(name: name, value: value, origin: origin))
                if name == "include.path" {
                    try include(value, from: nil, origin: origin, depth: 0)
                }
            }
        }

        /// git's `handle_path_include`.
        private mutating func include(_ value: String?, from file: URL?, origin: String, depth: Int) throws(MSGitError) {
            guard let value else {
                throw MSGitError(.invalidArgument, "missing value for 'include.path' (\(origin))")
            }
            var path = value
            if path == "~" || path.hasPrefix("~/") {
                guard let home else {
                    throw MSGitError(.invalidArgument, "could not expand include path '\(value)' (\(origin)): no home directory")
                }
                path = home.path + path.dropFirst()
            }
            if !path.hasPrefix("/") {
                guard let file else {
                    throw MSGitError(.invalidArgument, "relative config includes must come from files (\(origin))")
                }
                path = file.deletingLastPathComponent().path + "/" + path
            }
            guard access(path, R_OK) == 0 else { return }
            guard depth < Self.maxIncludeDepth else {
                throw MSGitError(.invalidArgument, "exceeded maximum include depth (\(Self.maxIncludeDepth)) while including "
                    + "\(path) from \(file?.path ?? origin)", hint: "this might be due to circular includes")
            }
            try read(file: URL(fileURLWithPath: path), depth: depth + 1)
        }
    }
}
