import Foundation
import HTTP

/// Hugging Face, the hub most repositories mirrored to ModelScope come from: where it is and
/// which hosts are its own, as huggingface_hub (its Python client, `constants.py`) decides.
///
/// Its repositories are `<endpoint>/<org>/<name>` (models), `<endpoint>/datasets/<org>/<name>`
/// and `<endpoint>/spaces/<org>/<name>`, cloned without ".git", as the hub's "Clone" button
/// shows them; their LFS server is git-lfs's default, `<url>.git/info/lfs`, whose download
/// links lead to storage hosts of its own (cas-bridge.xethub.hf.co, cdn-lfs.hf.co), presigned.
public enum HuggingFace {
    /// huggingface_hub's `_HF_DEFAULT_ENDPOINT`.
    public static let defaultEndpoint = "https://huggingface.co"

    /// The username sent with a Hugging Face token. The hub checks the token and takes any
    /// username; huggingface_hub hands its token to git's credential helpers with this one
    /// (`set_git_credential`, `USERNAME_PLACEHOLDER`), so the hub and the helpers see from msgit
    /// what they see from huggingface_hub. GitLab's `oauth2` would do as well, and says less.
    public static let username = "hf_user"

    /// Where `hf:` short names point: `HF_ENDPOINT` (as huggingface_hub reads it, trailing "/"
    /// taken off; https assumed when it names a host only), else https://huggingface.co.
    public static func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        configuredEndpoint(environment) ?? defaultEndpoint
    }

    /// Whether `url` is on Hugging Face, where its token may go: huggingface.co and its
    /// subdomains, hf.co (its short domain), and the origin of `HF_ENDPOINT` when that is set,
    /// which huggingface_hub trusts with the token too (a self-hosted or mirror endpoint).
    ///
    /// Not the subdomains of hf.co: they are the storage hosts (cas-bridge.xethub.hf.co,
    /// cdn-lfs.hf.co) whose presigned links need no token, and no git or LFS API lives there.
    /// `HF_ENDPOINT` counts by origin (scheme, host, port), not by host: a hub on another port of
    /// the same machine is another hub.
    public static func isHub(_ url: RemoteURL, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let host = url.host.lowercased()
        if host == "huggingface.co" || host.hasSuffix(".huggingface.co") || host == "hf.co" { return true }
        guard let configured = configuredEndpoint(environment), let endpoint = Origin(configured) else { return false }
        return endpoint == url.origin || endpoint.upgrades(to: url.origin)
    }

    /// `HF_ENDPOINT`, cleaned, when it is set and not blank.
    private static func configuredEndpoint(_ environment: [String: String]) -> String? {
        guard let value = environment["HF_ENDPOINT"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        var base = value.contains("://") ? value : "https://" + value
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
