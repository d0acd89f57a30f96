import Foundation

/// `namespace/name` as a repository on ModelScope (or the hub `MSGIT_ENDPOINT` names).
public enum ShortNames {
    public static let defaultEndpoint = "https://www.modelscope.cn"

    /// The base URL short names expand against: `MSGIT_ENDPOINT` (scheme, host and port, like
    /// huggingface_hub's `HF_ENDPOINT`), else `MODELSCOPE_DOMAIN` as ModelScope's SDK reads it (a
    /// host, https assumed), else https://www.modelscope.cn.
    public static func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let endpoint = environment["MSGIT_ENDPOINT"]?.trimmingCharacters(in: .whitespaces), !endpoint.isEmpty {
            return endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        }
        if let domain = environment["MODELSCOPE_DOMAIN"]?.trimmingCharacters(in: .whitespaces), !domain.isEmpty {
            let base = domain.contains("://") ? domain : "https://" + domain
            return base.hasSuffix("/") ? String(base.dropLast()) : base
        }
        return defaultEndpoint
    }

    /// `input` itself unless it is a short name (`ns/name`, no scheme): then the repository's git URL.
    public static func expand(_ input: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let parts = input.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard parts.count == 2, !input.contains(":"),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.unicodeScalars.allSatisfy(allowed.contains) })
        else { return input }
        let name = parts[1].hasSuffix(".git") ? String(parts[1]) : parts[1] + ".git"
        return "\(endpoint(environment: environment))/\(parts[0])/\(name)"
    }
}
