import Foundation
import HTTP

/// Supplies the credential for a repository URL, or nil when it has none.
///
/// Providers are asked once per operation, before any request; the token is then sent only to the
/// origin (scheme, host, port) of that URL.
public protocol CredentialProvider: Sendable {
    /// The credential for the repository at `url`, or nil to go without one (public repositories).
    ///
    /// Asked at the start of each operation, before its first request, in the operation's task: a
    /// provider that blocks (runs a program, reads a vault) holds a thread of Swift's concurrency pool
    /// while it does, so keep it short or cache. A throw stops the operation before anything is sent;
    /// the error becomes an `MSGitError` (kind `.git` unless it is one already).
    func credential(for url: RemoteURL) throws -> Credential?

    /// A credential for another origin the operation reaches on its own, such as an LFS server
    /// named by the repository's `.lfsconfig` (which the repository's authors choose). Only
    /// credentials stored for that very host may be given; the default gives none.
    func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential?

    /// The hub accepted `credential` for `url`: a provider that keeps credentials may store it
    /// (git's `credential approve`, which sends `store` to its helpers). Called once the
    /// operation's git transfer has succeeded with it, off the concurrency pool; a failure here is
    /// logged, and does not fail the operation. The default does nothing.
    func approve(_ credential: Credential, for url: RemoteURL) throws

    /// The hub refused `credential` for `url` ("HTTP Basic: Access denied"): a provider that keeps
    /// credentials may forget it (git's `credential reject`, which sends `erase` to its helpers),
    /// so that the next ask finds a rotated token rather than the stale one. The default does
    /// nothing.
    func reject(_ credential: Credential, for url: RemoteURL) throws
}

extension CredentialProvider {
    /// None: a provider hands a credential to another origin only if it says so.
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? { nil }
    /// Does nothing.
    public func approve(_ credential: Credential, for url: RemoteURL) throws {}
    /// Does nothing.
    public func reject(_ credential: Credential, for url: RemoteURL) throws {}
}

/// A fixed token.
public struct StaticCredentials: CredentialProvider {
    package let credential: Credential
    /// A provider that answers `token` for every repository. `source` names it in messages and in
    /// `AccessReport`; never the token itself.
    public init(token: String, username: String = Credential.defaultUsername, source: String = "the caller") {
        credential = Credential(username: username, token: token, source: source)
    }
    /// The same credential, whatever the URL.
    public func credential(for url: RemoteURL) -> Credential? { credential }
}

/// A token read from an environment variable (`MSGIT_TOKEN` by default) when asked.
public struct EnvironmentCredentials: CredentialProvider {
    /// The environment variable read, each time a credential is asked for.
    public var variable: String
    /// The username sent with the token; `oauth2` by default.
    public var username: String
    /// A provider that reads `variable` at each ask, so that a token changed in the environment is used
    /// by the next operation.
    public init(variable: String = "MSGIT_TOKEN", username: String = Credential.defaultUsername) {
        self.variable = variable
        self.username = username
    }
    /// The variable's value, trimmed of spaces and line breaks; nil when it is unset or empty.
    public func credential(for url: RemoteURL) -> Credential? {
        guard let token = ProcessInfo.processInfo.environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else { return nil }
        return Credential(username: username, token: token, source: variable)
    }
}

/// Whatever a closure answers.
public struct ClosureCredentials: CredentialProvider {
    package let body: @Sendable (RemoteURL) throws -> Credential?
    /// A provider that calls `body` at the start of each operation, in the operation's task. `body` may
    /// throw to stop the operation; one that blocks holds a thread of the concurrency pool.
    public init(_ body: @escaping @Sendable (RemoteURL) throws -> Credential?) { self.body = body }
    /// What `body` answers for `url`.
    public func credential(for url: RemoteURL) throws -> Credential? { try body(url) }
}

/// The first provider that has a credential wins.
public struct CredentialChain: CredentialProvider {
    /// The providers, asked in this order.
    public var providers: [any CredentialProvider]
    /// A chain that asks `providers` in order.
    public init(_ providers: [any CredentialProvider]) { self.providers = providers }
    /// The first credential a provider gives; a provider that throws stops the search.
    public func credential(for url: RemoteURL) throws -> Credential? {
        for provider in providers {
            if let credential = try provider.credential(for: url) { return credential }
        }
        return nil
    }

    /// The first credential a provider gives for that origin; a provider that throws stops the search.
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? {
        for provider in providers {
            if let credential = try provider.credential(forSecondaryOrigin: url) { return credential }
        }
        return nil
    }

    /// Tells every provider (each decides whether the credential is its own); the first failure
    /// is thrown once all have been told.
    public func approve(_ credential: Credential, for url: RemoteURL) throws {
        try tellAll { try $0.approve(credential, for: url) }
    }

    /// Tells every provider, as `approve`.
    public func reject(_ credential: Credential, for url: RemoteURL) throws {
        try tellAll { try $0.reject(credential, for: url) }
    }

    private func tellAll(_ body: (any CredentialProvider) throws -> Void) throws {
        var firstError: (any Error)?
        for provider in providers {
            do {
                try body(provider)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }
}

/// No credentials: public repositories only.
public struct NoCredentials: CredentialProvider {
    /// A provider with no credential.
    public init() {}
    /// None, whatever the URL.
    public func credential(for url: RemoteURL) -> Credential? { nil }
}

extension CredentialProvider where Self == StaticCredentials {
    /// A fixed token, as in `GitClient(credentials: .token(readToken))`.
    public static func token(_ token: String, username: String = Credential.defaultUsername) -> StaticCredentials {
        StaticCredentials(token: token, username: username)
    }
}

extension CredentialProvider where Self == EnvironmentCredentials {
    /// A token read from `variable` at each ask, as in `GitClient(credentials: .environment())`.
    public static func environment(_ variable: String = "MSGIT_TOKEN") -> EnvironmentCredentials {
        EnvironmentCredentials(variable: variable)
    }
}
