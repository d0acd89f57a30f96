import Foundation

/// Chooses paths by include and exclude patterns, as git-lfs's `--include`/`--exclude` (-I/-X) do,
/// with gitignore-style patterns:
///
/// - A pattern without a slash matches a file or directory name at any depth
///   (`*.bin`, `weights`).
/// - A pattern with a slash is anchored at the repository root (`models/*.bin`, `/README.md`).
/// - A pattern naming a directory matches everything under it (`models`, `models/`).
/// - `*` and `?` do not cross `/`; `**` does (`**/onnx/*`).
///
/// A path is chosen when it matches some include pattern (or there are none) and no exclude pattern.
public struct PathFilter: Sendable {
    private let include: [Pattern]
    private let exclude: [Pattern]

    /// A filter of these patterns; a pattern that cannot be read (empty, a broken bracket) is dropped.
    /// With none, every path is allowed.
    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include.compactMap(Pattern.init)
        self.exclude = exclude.compactMap(Pattern.init)
    }

    /// Patterns from a comma-separated list, as the command line takes them.
    public static func patterns(_ list: String?) -> [String] {
        (list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Whether there is no pattern at all: every path is allowed.
    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    /// Whether `path` (relative to the repository root, "/" separators) matches an include pattern, or
    /// there is none, and no exclude pattern.
    public func allows(_ path: String) -> Bool {
        (include.isEmpty || include.contains { $0.matches(path) }) && !exclude.contains { $0.matches(path) }
    }

    struct Pattern: Sendable {
        let regex: NSRegularExpression
        let anchored: Bool

        init?(_ raw: String) {
            var text = raw
            while text.hasSuffix("/") { text.removeLast() }
            guard !text.isEmpty else { return nil }
            anchored = text.dropFirst().contains("/") || text.hasPrefix("/")
            if text.hasPrefix("/") { text.removeFirst() }
            // The pattern itself, or a directory it names and everything below.
            let body = Self.translate(text)
            guard let regex = try? NSRegularExpression(pattern: "^" + body + "(/.*)?$") else { return nil }
            self.regex = regex
        }

        func matches(_ path: String) -> Bool {
            if anchored { return test(path) }
            // Unanchored: the pattern may start at any path component.
            var start = path.startIndex
            while true {
                if test(String(path[start...])) { return true }
                guard let slash = path[start...].firstIndex(of: "/") else { return false }
                start = path.index(after: slash)
            }
        }

        private func test(_ s: String) -> Bool {
            regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }

        /// gitignore glob to regular expression.
        static func translate(_ glob: String) -> String {
            var out = ""
            var chars = Array(glob)
            var i = 0
            while i < chars.count {
                let c = chars[i]
                switch c {
                case "*":
                    if i + 1 < chars.count && chars[i + 1] == "*" {
                        // "**/" matches any number of directories, "/**" everything below, "**" anything.
                        if i + 2 < chars.count && chars[i + 2] == "/" {
                            out += "(?:.*/)?"
                            i += 3
                        } else {
                            out += ".*"
                            i += 2
                        }
                        continue
                    }
                    out += "[^/]*"
                case "?":
                    out += "[^/]"
                case "[":
                    if let close = chars[(i + 1)...].firstIndex(of: "]"), close > i + 1 {
                        var set = String(chars[(i + 1)..<close])
                        if set.hasPrefix("!") { set = "^" + set.dropFirst() }
                        out += "[" + set.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                        i = close + 1
                        continue
                    }
                    out += "\\["
                case "\\":
                    if i + 1 < chars.count {
                        out += NSRegularExpression.escapedPattern(for: String(chars[i + 1]))
                        i += 2
                        continue
                    }
                    out += "\\\\"
                default:
                    out += NSRegularExpression.escapedPattern(for: String(c))
                }
                i += 1
            }
            chars.removeAll()
            return out
        }
    }
}
