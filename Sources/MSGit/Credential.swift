import Foundation
import HTTP

/// A username and a personal access token for one hub.
///
/// An operation that uses a credential masks its token in every message and log line while it
/// runs (`Redactor`); the description never holds it.
///
/// ModelScope and other GitLab-based hubs take the username `oauth2` and a personal access token
/// as the password; an account password is refused ("HTTP Basic: Access denied"), and accounts with
/// two-factor authentication can only use tokens.
public struct Credential: Sendable, CustomStringConvertible {
    public var username: String
    public var token: String
    /// Where the token came from, for messages ("MSGIT_TOKEN", "token file /path"). Never the token.
    public var source: String
    /// What git's credential helpers said with the token, when they gave it: what `approve` and
    /// `reject` hand back to them, and how `GitCredentialHelpers` knows the credential for its own.
    var helperAnswer: GitCredentialHelpers.Answer?
    /// The provider that gave it, which hears whether the hub accepted it (`approve`, `reject`).
    var provider: (any CredentialProvider)?

    public init(username: String = Credential.defaultUsername, token: String, source: String) {
        self.username = username
        self.token = token
        self.source = source
    }

    public static let defaultUsername = "oauth2"

    public var description: String { "\(username) with a token from \(source)" }

    /// This credential for requests to `origin`, and only there.
    public func scope(for origin: Origin) -> CredentialScope {
        CredentialScope(origin: origin, username: username, password: token)
    }
}
