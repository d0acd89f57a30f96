import Foundation

/// Where msgit looks for a token meant for writing (push, upload, `mirror --push-to`), in this
/// order: a token file (`--push-token-file`), then `MSGIT_PUSH_TOKEN`.
///
/// ModelScope recommends one token per purpose, a read token to pull and a write token to push.
/// With none of these set, a push to the repository's own origin uses the read token, as git would,
/// and a mirror's push target gets only a credential stored for its own host (see
/// `CredentialProvider.credential(forSecondaryOrigin:)`).
public struct StandardWriteCredentials: CredentialProvider {
    public var tokenFile: URL?
    public var environment: [String: String]

    public init(tokenFile: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.tokenFile = tokenFile
        self.environment = environment
    }

    public func credential(for url: RemoteURL) throws -> Credential? {
        if let tokenFile {
            return Credential(token: try StandardCredentials.readTokenFile(tokenFile),
                              source: "--push-token-file \(tokenFile.path)")
        }
        if let token = environment["MSGIT_PUSH_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return Credential(token: token, source: "MSGIT_PUSH_TOKEN")
        }
        return nil
    }
}
