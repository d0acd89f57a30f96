import Foundation
import HTTP

/// A username and a personal access token for one hub.
///
/// An operation that uses a credential has the `Redactor` mask its token in every message and
/// error while it runs (and in log lines, for a log handler that asks the `Redactor`); the
/// description never holds it.
///
/// ModelScope and other GitLab-based hubs take the username `oauth2` and a personal access token
/// as the password; an account password is refused ("HTTP Basic: Access denied"), and accounts with
/// two-factor authentication can only use tokens.
public struct Credential: Sendable, CustomStringConvertible {
    /// The username sent with the token (HTTP Basic); `oauth2` for ModelScope and GitLab-based hubs.
    public var username: String
    /// The personal access token, sent as the password, to the repository's origin only.
    public var token: String
    /// Where the token came from, for messages ("MSGIT_TOKEN", "token file /path"). Never the token.
    public var source: String
    /// What git's credential helpers said with the token, when they gave it: what `approve` and
    /// `reject` hand back to them, and how `GitCredentialHelpers` knows the credential for its own.
    package var helperAnswer: GitCredentialHelpers.Answer?
    /// The provider that gave it, which hears whether the hub accepted it (`approve`, `reject`).
    package var provider: (any CredentialProvider)?

    /// A credential for one hub. `source` says where the token came from, for messages (never the
    /// token: "MSGIT_TOKEN", "vault path secret/hub").
    public init(username: String = Credential.defaultUsername, token: String, source: String) {
        self.username = username
        self.token = token
        self.source = source
    }

    /// The username sent when none is given or stored, as ModelScope and GitLab expect with a token.
    public static let defaultUsername = "oauth2"

    /// The username and where the token came from ("oauth2 with a token from MSGIT_TOKEN"); never the
    /// token.
    public var description: String { "\(username) with a token from \(source)" }

    /// This credential for requests to `origin`, and only there.
    public func scope(for origin: Origin) -> CredentialScope {
        CredentialScope(origin: origin, username: username, password: token)
    }
}
