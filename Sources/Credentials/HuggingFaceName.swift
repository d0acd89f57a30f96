import Foundation

/// A Hugging Face repository named the short way: `hf:org/name` (a model), `hf:datasets/org/name`,
/// `hf:spaces/org/name`, or as huggingface_hub writes its URIs, `hf://[models/|datasets/|spaces/]org/name`.
///
/// The name is checked as huggingface_hub checks a repository id (`validate_repo_id`), before it
/// becomes a URL: `org` and `name` hold ASCII letters, digits, "-", "_" and "." only, neither
/// starts nor ends with "-" or ".", neither holds "--" or "..", and `org/name` is at most 96
/// characters. Nothing is percent-decoded, so neither a dot segment nor an encoded "/" can reach
/// the URL, the clone's directory or a mirror's path. A revision (`@rev`) or a path inside the
/// repository, which huggingface_hub's URIs may carry, is refused: msgit names whole repositories.
public struct HuggingFaceName: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case model, dataset, space

        /// The word before the id in huggingface_hub's URIs, and (but for models) in the URL.
        var plural: String { rawValue + "s" }
    }

    public let kind: Kind
    /// `org/name`, without ".git".
    public let id: String

    /// Parses `text`, which must start with `hf:` (in any case).
    public init(_ text: String) throws(MSGitError) {
        let input = text.trimmingCharacters(in: .whitespaces)
        func refuse(_ why: String, hint: String = Self.forms) -> MSGitError {
            MSGitError(.invalidArgument, "'\(input.redacted)' names no Hugging Face repository: \(why)", hint: hint)
        }
        guard Self.isShortName(input) else { throw refuse("it does not start with hf:") }
        var body = Substring(input.dropFirst(3))
        if body.hasPrefix("//") { body = body.dropFirst(2) }
        if body.contains("@") {
            throw refuse("a revision has no place in it",
                         hint: "name the repository, and the revision apart: msgit clone --revision <rev> hf:org/name")
        }
        var parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1 && parts.contains("") { throw refuse("it has an empty part (a '/' too many)") }
        var kind = Kind.model
        // As in huggingface_hub's URIs, these words are kinds, never a namespace (the hub has none
        // by these names): `hf:datasets/org` is a dataset without its namespace.
        if parts.count > 1, let named = Kind.allCases.first(where: { $0.plural == parts[0] }) {
            kind = named
            parts.removeFirst()
        } else if parts.count > 1, ["kernels", "buckets"].contains(parts[0]) {
            throw refuse("msgit clones models, datasets and spaces, not \(parts[0])")
        }
        guard parts.count <= 2 else {
            throw refuse("a repository is org/name; '\(parts.dropFirst(2).joined(separator: "/"))' would be a path inside it")
        }
        guard parts.count == 2 else { throw refuse("a repository is org/name") }
        if parts[1].hasSuffix(".git") && parts[1].count > 4 { parts[1].removeLast(4) }
        for part in parts {
            if let problem = Self.problem(with: part) { throw refuse("'\(part)' \(problem)") }
        }
        let id = parts.joined(separator: "/")
        guard id.count <= 96 else { throw refuse("org/name is longer than 96 characters") }
        self.kind = kind
        self.id = id
    }

    /// Whether `text` is meant as one (it starts with `hf:`), right or wrong.
    public static func isShortName(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespaces).prefix(3).lowercased() == "hf:"
    }

    /// The repository's URL on the hub at `endpoint` (`HuggingFace.endpoint`), without ".git", as
    /// the hub's "Clone" button shows it.
    public func url(endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return kind == .model ? "\(base)/\(id)" : "\(base)/\(kind.plural)/\(id)"
    }

    public var description: String { kind == .model ? "hf:\(id)" : "hf:\(kind.plural)/\(id)" }

    package static let forms = "write hf:org/name, hf:datasets/org/name or hf:spaces/org/name"

    /// What is wrong with one part of an id, as huggingface_hub's `REPO_ID_REGEX` and
    /// `validate_repo_id` judge it (ASCII only: the hub takes no other).
    private static func problem(with part: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !part.isEmpty else { return "is empty" }
        guard part.allSatisfy(allowed.contains) else { return "may hold only letters, digits, '-', '_' and '.'" }
        guard let first = part.first, let last = part.last, !"-.".contains(first), !"-.".contains(last) else {
            return "may not start or end with '-' or '.'"
        }
        guard !part.contains("--"), !part.contains("..") else { return "may not hold '--' or '..'" }
        return nil
    }
}
