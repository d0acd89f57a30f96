import Foundation

/// Short names for repositories on ModelScope (or the hub an endpoint variable names):
/// `namespace/name` is a model, `datasets/namespace/name` a dataset; and on Hugging Face (or
/// the hub `HF_ENDPOINT` names): `hf:org/name`, `hf:datasets/org/name`, `hf:spaces/org/name`
/// (`HuggingFaceName`).
public enum ShortNames {
    /// The hub short names expand against when no endpoint variable is set.
    public static let defaultEndpoint = "https://www.modelscope.cn"

    /// The base URL short names expand against: `MSGIT_ENDPOINT` (scheme, host and port, like
    /// huggingface_hub's `HF_ENDPOINT`), else `MODELSCOPE_ENDPOINT` (what ModelScope's SDK reads
    /// today), else `MODELSCOPE_DOMAIN` as the SDK read it before (a host, https assumed), else
    /// https://www.modelscope.cn.
    public static func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for variable in ["MSGIT_ENDPOINT", "MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN"] {
            guard let value = environment[variable]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            var base = value.contains("://") ? value : "https://" + value
            while base.hasSuffix("/") { base.removeLast() }
            return base
        }
        return defaultEndpoint
    }

    /// `input` itself unless it is a short name (no scheme): `ns/name` becomes
    /// `<endpoint>/ns/name.git`, `datasets/ns/name` becomes `<endpoint>/datasets/ns/name.git`;
    /// `hf:org/name` becomes `<HF endpoint>/org/name` (no ".git", as Hugging Face shows it) and
    /// `hf:datasets/org/name` `<HF endpoint>/datasets/org/name`.
    ///
    /// A malformed `hf:` name is left as it is, as other input: `RemoteURL` then says what is
    /// wrong with it.
    public static func expand(_ input: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if HuggingFaceName.isShortName(input) {
            guard let name = try? HuggingFaceName(input) else { return input }
            return name.url(endpoint: HuggingFace.endpoint(environment: environment))
        }
        var parts = input.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        let prefix = parts.count == 3 && parts[0] == "datasets" ? "datasets/" : ""
        if !prefix.isEmpty { parts.removeFirst() }
        guard parts.count == 2, !input.contains(":"),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.unicodeScalars.allSatisfy(allowed.contains) })
        else { return input }
        let name = parts[1].hasSuffix(".git") ? String(parts[1]) : parts[1] + ".git"
        return "\(endpoint(environment: environment))/\(prefix)\(parts[0])/\(name)"
    }
}
