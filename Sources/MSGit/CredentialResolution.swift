import Foundation
import HTTP

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
