import Foundation
import GitCore

/// What an operation on an existing repository needs to know about one of its remotes.
struct RemoteSetup: Sendable {
    let url: RemoteURL
    let resolution: CredentialResolution
    /// The remote was given as a URL (or short name), not the name of a configured remote.
    let isAnonymous: Bool

    /// Reads `remote.<name>.url` of the repository at `directory` (or takes `remote` itself when it
    /// is a URL) and resolves its credential.
    static func load(directory: URL, remote: String, client: GitClient, purpose: CredentialPurpose = .read,
                     secrets: SecretScope) async throws -> RemoteSetup {
        let configured: String
        let isAnonymous = remote.contains("://") || ShortNames.expand(remote) != remote
        if isAnonymous {
            configured = ShortNames.expand(remote)
        } else {
            configured = try await GitOperation().run {
                let repository = try Self.openRepository(directory)
                guard let url = repository.config("remote.\(remote).url") else {
                    throw MSGitError(.invalidArgument, "'\(remote)' does not appear to be a git repository",
                                     hint: "no remote named '\(remote)' in \(directory.path)")
                }
                return url
            }
        }
        let url = try RemoteURL(configured)
        return RemoteSetup(url: url, resolution: try CredentialResolution(url: url, client: client, purpose: purpose,
                                                                           secrets: secrets),
                           isAnonymous: isAnonymous)
    }

    static func openRepository(_ directory: URL) throws -> Repository {
        do {
            return try Repository.open(at: directory)
        } catch {
            throw MSGitError(.invalidArgument, "not a git repository: '\(directory.path)'")
        }
    }
}
