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

/// Supplies the credential for a repository URL, or nil when it has none.
///
/// Providers are asked once per operation, before any request; the token is then sent only to the
/// origin (scheme, host, port) of that URL.
public protocol CredentialProvider: Sendable {
    func credential(for url: RemoteURL) throws -> Credential?

    /// A credential for another origin the operation reaches on its own, such as an LFS server
    /// named by the repository's `.lfsconfig` (which the repository's authors choose). Only
    /// credentials stored for that very host may be given; the default gives none.
    func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential?
}

extension CredentialProvider {
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? { nil }
}

/// A fixed token.
public struct StaticCredentials: CredentialProvider {
    let credential: Credential
    public init(token: String, username: String = Credential.defaultUsername, source: String = "the caller") {
        credential = Credential(username: username, token: token, source: source)
    }
    public func credential(for url: RemoteURL) -> Credential? { credential }
}

/// A token read from an environment variable (`MSGIT_TOKEN` by default) when asked.
public struct EnvironmentCredentials: CredentialProvider {
    public var variable: String
    public var username: String
    public init(variable: String = "MSGIT_TOKEN", username: String = Credential.defaultUsername) {
        self.variable = variable
        self.username = username
    }
    public func credential(for url: RemoteURL) -> Credential? {
        guard let token = ProcessInfo.processInfo.environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else { return nil }
        return Credential(username: username, token: token, source: variable)
    }
}

/// Whatever a closure answers.
public struct ClosureCredentials: CredentialProvider {
    let body: @Sendable (RemoteURL) throws -> Credential?
    public init(_ body: @escaping @Sendable (RemoteURL) throws -> Credential?) { self.body = body }
    public func credential(for url: RemoteURL) throws -> Credential? { try body(url) }
}

/// The first provider that has a credential wins.
public struct CredentialChain: CredentialProvider {
    public var providers: [any CredentialProvider]
    public init(_ providers: [any CredentialProvider]) { self.providers = providers }
    public func credential(for url: RemoteURL) throws -> Credential? {
        for provider in providers {
            if let credential = try provider.credential(for: url) { return credential }
        }
        return nil
    }

    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? {
        for provider in providers {
            if let credential = try provider.credential(forSecondaryOrigin: url) { return credential }
        }
        return nil
    }
}

/// No credentials: public repositories only.
public struct NoCredentials: CredentialProvider {
    public init() {}
    public func credential(for url: RemoteURL) -> Credential? { nil }
}

extension CredentialProvider where Self == StaticCredentials {
    public static func token(_ token: String, username: String = Credential.defaultUsername) -> StaticCredentials {
        StaticCredentials(token: token, username: username)
    }
}

extension CredentialProvider where Self == EnvironmentCredentials {
    public static func environment(_ variable: String = "MSGIT_TOKEN") -> EnvironmentCredentials {
        EnvironmentCredentials(variable: variable)
    }
}

/// What an operation does with a repository, which decides where its credential may come from.
enum CredentialPurpose {
    /// Clone, fetch, LFS downloads: `GitClient.credentials`.
    case read
    /// Push and upload to a repository the user named: the write credentials if they have one,
    /// else the read credential for that repository, as git uses one credential for both.
    case write
    /// A push to a target the operation chose from a template (`mirror --push-to`), usually on
    /// another host: the write credentials, else only a credential stored for the target's own
    /// host. Never the read token, which was given for the source.
    case mirrorTarget
}

/// Resolves the credential of an operation: a token in the URL's userinfo (with a warning) wins
/// over the providers, since the user typed it for this very URL. The token is admitted to the
/// operation's `SecretScope`, so it is masked wherever it could show while the operation runs.
struct CredentialResolution {
    let credential: Credential?
    let warning: String?

    init(url: RemoteURL, client: GitClient, purpose: CredentialPurpose = .read, secrets: SecretScope) throws {
        if let token = url.userinfoToken {
            credential = Credential(username: url.username ?? client.username ?? Credential.defaultUsername, token: token,
                                    source: "the URL")
            warning = "a token in the URL is visible to other users in the process list and shell history; "
                + "use MSGIT_TOKEN or --token-file instead"
        } else {
            var found: Credential?
            switch purpose {
            case .read:
                found = try client.credentials.credential(for: url)
            case .write:
                found = try client.writeCredentials?.credential(for: url) ?? client.credentials.credential(for: url)
            case .mirrorTarget:
                found = try client.writeCredentials?.credential(for: url)
                    ?? client.credentials.credential(forSecondaryOrigin: url)
            }
            if let username = client.username, found != nil { found!.username = username }
            credential = found
            warning = nil
        }
        secrets.admit(credential)
    }
}
