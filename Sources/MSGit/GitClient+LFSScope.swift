import Foundation
import HTTP

extension GitClient {
    /// The credential for an LFS endpoint: the operation's, when its scope (the repository's
    /// origin) admits the endpoint; for an endpoint elsewhere, only a credential stored for that
    /// host (a repository's .lfsconfig may name any server).
    func lfsScope(for endpoint: URL, remoteURL: RemoteURL, credential: Credential?, secrets: SecretScope) -> CredentialScope? {
        if let scope = credential?.scope(for: remoteURL.origin), scope.admits(endpoint) { return scope }
        guard let url = try? RemoteURL(endpoint.absoluteString), let origin = Origin(endpoint),
              let other = try? credentials.credential(forSecondaryOrigin: url) else { return nil }
        return secrets.admit(other)?.scope(for: origin)
    }
}
