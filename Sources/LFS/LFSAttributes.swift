import Foundation

/// Which paths a `.gitattributes` file sends through `filter=lfs`, by git's rules: a pattern
/// without a slash matches a name at any depth; one with a slash is anchored where the file is;
/// a pattern naming a directory does not match the files inside it (`dir/**` does); the last
/// matching line that mentions `filter` decides.
public struct LFSAttributes: Sendable {
    private struct Rule: Sendable {
        let regex: NSRegularExpression
        let anchored: Bool
        let lfs: Bool
    }
    private let rules: [Rule]

    /// The rules of `text`, a `.gitattributes` file's content. Comments, lines that say nothing of
    /// `filter`, and patterns that start with `!` (which git forbids) are skipped.
    public init(_ text: String) {
        var rules: [Rule] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else { continue }
            var pattern = fields[0]
            let decides: Bool? = fields.dropFirst().reduce(nil) { current, attribute in
                if attribute == "filter=lfs" { return true }
                if attribute.hasPrefix("filter=") || attribute == "-filter" || attribute == "!filter" { return false }
                return current
            }
            guard let lfs = decides, !pattern.hasPrefix("!") else { continue }
            let anchored = pattern.dropFirst().contains("/") || pattern.hasPrefix("/")
            if pattern.hasPrefix("/") { pattern.removeFirst() }
            guard let regex = try? NSRegularExpression(pattern: "^" + PathFilter.Pattern.translate(pattern) + "$") else {
                continue
            }
            rules.append(Rule(regex: regex, anchored: anchored, lfs: lfs))
        }
        self.rules = rules
    }

    /// Whether `path`, relative to the directory of the file, goes through `filter=lfs`: the last rule
    /// that matches decides, and no rule means no.
    public func isLFS(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        for rule in rules.reversed() {
            let subject = rule.anchored ? path : name
            if rule.regex.firstMatch(in: subject, range: NSRange(subject.startIndex..., in: subject)) != nil {
                return rule.lfs
            }
        }
        return false
    }

    /// The line `git lfs track <path>` would add for exactly this path.
    public static func trackLine(for path: String) -> String {
        var escaped = ""
        for c in path {
            switch c {
            case " ": escaped += "[[:space:]]"
            case "*", "?", "[", "]", "\\", "!", "#": escaped += "\\" + String(c)
            default: escaped.append(c)
            }
        }
        return "/\(escaped) filter=lfs diff=lfs merge=lfs -text"
    }
}
