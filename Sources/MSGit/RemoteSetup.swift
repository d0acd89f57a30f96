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
        // git forbids ':' in remote names: any hf: name is a URL, a malformed one included.
        let isAnonymous = remote.contains("://") || HuggingFaceName.isShortName(remote) || ShortNames.expand(remote) != remote
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

    /// `remote`, or the one git would use when none is named: for a push
    /// `branch.<current>.pushRemote`, then `remote.pushDefault`; then (for every operation) the
    /// current branch's `branch.<current>.remote`, else `origin`.
    static func remoteName(_ remote: String?, directory: URL, forPush: Bool = false) async throws -> String {
        if let remote { return remote }
        return try await GitOperation().run { defaultRemote(of: try openRepository(directory), forPush: forPush) }
    }

    static func defaultRemote(of repository: Repository, forPush: Bool = false) -> String {
        let head = repository.headReferenceName
        let branch = head.flatMap { $0.hasPrefix("refs/heads/") ? String($0.dropFirst("refs/heads/".count)) : nil }
        var candidates: [String?] = []
        if forPush { candidates += [branch.flatMap { repository.config("branch.\($0).pushRemote") }, repository.config("remote.pushDefault")] }
        candidates.append(branch.flatMap { repository.config("branch.\($0).remote") })
        // "." is the repository itself (a branch following a local branch): not a remote.
        return candidates.compactMap { $0 }.first { !$0.isEmpty && $0 != "." } ?? "origin"
    }

    static func openRepository(_ directory: URL) throws -> Repository {
        do {
            return try Repository.open(at: directory)
        } catch {
            throw MSGitError(.invalidArgument, "not a git repository: '\(directory.path)'")
        }
    }
}
