import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GitCore
import HTTP

/// Answers libgit2's credential requests for one operation.
///
/// It hands the token only to the origin of the repository URL (not to another host a redirect
/// leads to), and only once: libgit2 would otherwise replay a refused token up to 15 times.
struct Authenticator: Sendable {
    let remote: RemoteURL
    let credential: Credential?

    func answer(_ request: CredentialRequest) throws -> GitCredential {
        guard let credential else {
            throw MSGitError(.authenticationRequired, "'\(remote)' needs a token and none was found",
                             hint: Self.whereToPutToken)
        }
        guard let url = URL(string: request.url),
              let basic = credential.scope(for: remote.origin).basicCredential(for: url) else {
            throw MSGitError(
                .authenticationRejected,
                "'\(remote)' redirected to \(Origin(request.url)?.description ?? "another location"), which asks for "
                    + "credentials; msgit sends a token only to the host it was given for (\(remote.origin))")
        }
        guard request.attempt == 1 else {
            throw MSGitError(.authenticationRejected, "authentication failed for '\(remote)'",
                             hint: Self.rejectionHint(credential))
        }
        return GitCredential(username: basic.username, password: basic.password, endpoint: remote.credentialEndpoint)
    }

    static let whereToPutToken = StandardCredentials.sourcesHelp
        + "; the username is 'oauth2' unless --username says otherwise"

    static func rejectionHint(_ credential: Credential) -> String {
        """
        the token from \(credential.source) was refused for user '\(credential.username)'. \
        ModelScope and other GitLab-based hubs want the username 'oauth2' and a personal access token \
        as the password, not the account password; accounts with two-factor authentication must use a \
        token. Check that the token is current and has access to this repository.
        """
    }
}
