import Foundation
import GitCore
import HTTP

/// A repository URL on a git hub, checked and split, with any userinfo taken out.
///
/// `string` (and `description`) never hold userinfo, so a `RemoteURL` can be written to
/// `.git/config`, logged and shown. A password or token found in the userinfo is kept apart in
/// `userinfoToken`, which an operation using the URL masks in its messages (`Redactor`).
public struct RemoteURL: Hashable, Sendable, CustomStringConvertible {
    /// "https" or "http", lowercased; "https" for a known hub given as http (`upgradedFromHTTP`).
    public let scheme: String
    /// The host, lowercased.
    public let host: String
    /// The port the URL names; nil for the scheme's default.
    public let port: Int?
    /// The path, starting with "/", e.g. "/ns/name.git".
    public let path: String
    /// The username found in the URL's userinfo, if any.
    public let username: String?
    /// The password or token found in the URL's userinfo, if any. Never printed.
    public let userinfoToken: String?
    /// The URL was given as plain http for a hub that serves git over https only (`knownHTTPSHosts`),
    /// and was upgraded before any request: ModelScope's own help shows `http://oauth2:TOKEN@...`.
    public let upgradedFromHTTP: Bool

    /// The hubs msgit knows serve git over https: an `http://` URL for one of them is taken as
    /// `https://`, so that no token goes out in clear to be redirected afterwards.
    public static let knownHTTPSHosts: Set<String> = [
        "modelscope.cn", "www.modelscope.cn", "modelscope.ai", "www.modelscope.ai", "huggingface.co", "www.huggingface.co",
        "hf.co",
    ]

    /// Parses and checks a repository URL given by a user.
    public init(_ input: String) throws(MSGitError) {
        let text = input.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            throw MSGitError(.invalidArgument, "no repository URL given")
        }
        if HuggingFaceName.isShortName(text) {
            // A short name that reached here was either malformed (`ShortNames.expand` leaves
            // those alone), and parsing it says why, or never expanded.
            let name = try HuggingFaceName(text)
            throw MSGitError(.invalidArgument, "'\(name)' is a short name, not a URL",
                             hint: "expand it first (RemoteURL.resolving, ShortNames.expand)")
        }
        if Self.looksLikeSSH(text) {
            throw MSGitError(.invalidArgument, "ssh URLs are not supported yet: '\(text.redacted)'",
                             hint: "use the https URL of the repository, e.g. https://host/namespace/name.git")
        }
        guard let components = URLComponents(string: text), let rawScheme = components.scheme else {
            throw MSGitError(.invalidArgument, "malformed URL '\(text.redacted)'",
                             hint: "expected http(s)://host/namespace/name.git")
        }
        let scheme = rawScheme.lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw MSGitError(.invalidArgument, "unsupported URL scheme '\(scheme)' in '\(text.redacted)'",
                             hint: "msgit talks to git hubs over http and https")
        }
        guard let host = components.host, !host.isEmpty else {
            throw MSGitError(.invalidArgument, "malformed URL '\(text.redacted)': no host")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw MSGitError(.invalidArgument, "malformed URL '\(text.redacted)': port \(port) is out of range")
        }
        let path = components.percentEncodedPath
        guard path.count > 1 else {
            throw MSGitError(.invalidArgument, "malformed URL '\(text.redacted)': no repository path",
                             hint: "expected http(s)://host/namespace/name.git")
        }
        if components.percentEncodedQuery != nil || components.fragment != nil {
            throw MSGitError(.invalidArgument, "malformed URL '\(text.redacted)': a repository URL has no query or fragment")
        }
        let lowerHost = host.lowercased()
        upgradedFromHTTP = scheme == "http" && Self.knownHTTPSHosts.contains(lowerHost)
            && (components.port == nil || components.port == 80)
        self.scheme = upgradedFromHTTP ? "https" : scheme
        self.host = lowerHost
        self.port = upgradedFromHTTP ? nil : components.port
        self.path = path
        let user = components.user?.removingPercentEncoding
        let password = components.password?.removingPercentEncoding
        if let password, !password.isEmpty {
            username = user
            userinfoToken = password
        } else if let user, !user.isEmpty {
            // `https://TOKEN@host/...`: a lone userinfo is how tokens are often pasted.
            username = nil
            userinfoToken = user
        } else {
            username = nil
            userinfoToken = nil
        }
    }

    /// Whether the host is this machine (`localhost`, 127.0.0.0/8, `::1`): plain http there never
    /// crosses a network.
    public var isLoopback: Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" || bare.hasPrefix("127.")
    }

    /// The URL without userinfo.
    public var string: String {
        var s = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)"
        if let port { s += ":\(port)" }
        return s + path
    }

    /// The URL without userinfo, as `string`.
    public var description: String { string }

    /// Where libgit2 may send this URL's credential: its host and port, and port 443 of the same
    /// host for a plain http URL (a redirect that upgrades to https keeps the credential; one
    /// that drops from https to http libgit2 refuses itself).
    package var credentialEndpoint: GitCredential.Endpoint {
        GitCredential.Endpoint(host: host, port: port ?? (scheme == "https" ? 443 : 80),
                               upgradePort: scheme == "http" ? 443 : nil)
    }
    /// The URL without userinfo, as a Foundation `URL`.
    public var url: URL { URL(string: string)! }
    /// The scheme, host and port: the only place this URL's credential may be sent.
    public var origin: Origin { Origin(scheme: scheme, host: host, port: port) }

    /// The last path component without ".git" ("name" for ".../ns/name.git", ".../ns/name" and
    /// ".../ns/name/.git"), as git names the directory of a clone (`git_url_basename`).
    public var humanishName: String {
        var trimmed = Substring(path)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix("/.git") {
            trimmed = trimmed.dropLast(5)
            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        }
        var last = trimmed.split(separator: "/").last.map(String.init) ?? host
        if last.hasSuffix(".git") { last.removeLast(4) }
        return last.removingPercentEncoding ?? last
    }

    /// This URL with ".git" added to the path unless it is there, as hubs and git-lfs expect.
    public var withGitSuffix: String {
        path.hasSuffix(".git") ? string : string + ".git"
    }

    private static func looksLikeSSH(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.hasPrefix("ssh://") || lower.hasPrefix("git+ssh://") || lower.hasPrefix("ssh+git://") { return true }
        // scp-like: [user@]host:path, with no "://" and a colon before any slash.
        guard !text.contains("://"), let colon = text.firstIndex(of: ":") else { return false }
        let before = text[..<colon]
        return !before.isEmpty && !before.contains("/") && before.count > 1
    }
}

extension RemoteURL {
    /// `text`, a URL or a short name (`ShortNames`), parsed; its error as an `MSGitError`.
    public static func resolving(_ text: String) throws(MSGitError) -> RemoteURL {
        do {
            return try RemoteURL(ShortNames.expand(text))
        } catch {
            throw MSGitError.from(error)
        }
    }
}
