import Foundation
import HTTP
import Logging

/// What an operation does with a repository, which decides where its credential may come from.
package enum CredentialPurpose {
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
package struct CredentialResolution {
    package let credential: Credential?
    /// What the user should know about where the token goes (a token in the URL, a token over plain
    /// http), already logged as warnings when this was made: before the work, whatever its outcome.
    package let warnings: [String]

    /// - Parameters:
    ///   - credentials, writeCredentials, username, logger: the client's (`GitClient`'s).
    package init(url: RemoteURL, credentials reading: any CredentialProvider, writeCredentials writing: (any CredentialProvider)?,
                 username: String?, logger: Logger, purpose: CredentialPurpose = .read, secrets: SecretScope) throws {
        var warnings: [String] = []
        if let token = url.userinfoToken {
            credential = Credential(username: url.username ?? username ?? Credential.defaultUsername, token: token,
                                    source: "the URL")
            warnings.append("a token in the URL is visible to other users in the process list and shell history; "
                + "use MSGIT_TOKEN or --token-file instead")
        } else {
            var found: Credential?
            func ask(_ provider: (any CredentialProvider)?, secondary: Bool = false) throws -> Credential? {
                guard let provider else { return nil }
                var credential = secondary ? try provider.credential(forSecondaryOrigin: url) : try provider.credential(for: url)
                credential?.provider = provider
                return credential
            }
            switch purpose {
            case .read:
                found = try ask(reading)
            case .write:
                found = try ask(writing) ?? ask(reading)
            case .mirrorTarget:
                found = try ask(writing) ?? ask(reading, secondary: true)
            }
            if let username = username, found != nil { found!.username = username }
            credential = found
        }
        if let credential, url.scheme == "http", !url.isLoopback {
            warnings.append("the token from \(credential.source) goes to \(url.host) over plain http, readable by anyone on "
                + "the network between; use the https URL if the hub has one")
        }
        if url.upgradedFromHTTP {
            logger.info("\(url.host) serves git over https only: using \(url.string)")
        }
        secrets.admit(credential)
        for warning in warnings { logger.warning("\(warning)") }
        self.warnings = warnings
    }
}
