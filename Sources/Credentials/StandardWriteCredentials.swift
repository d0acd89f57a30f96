import Foundation

/// Where msgit looks for a token meant for writing (push, upload, `mirror --push-to`), in this
/// order: a token file (`--push-token-file`), then `MSGIT_PUSH_TOKEN`.
///
/// ModelScope recommends one token per purpose, a read token to pull and a write token to push.
/// With none of these set, a push to the repository's own origin uses the read token, as git would,
/// and a mirror's push target gets only a credential stored for its own host (see
/// `CredentialProvider.credential(forSecondaryOrigin:)`).
public struct StandardWriteCredentials: CredentialProvider {
    /// A file whose first line is the write token (`--push-token-file`), read at each ask; when set it
    /// is the only source.
    public var tokenFile: URL?
    /// The environment read for `MSGIT_PUSH_TOKEN`; the process's by default.
    public var environment: [String: String]

    /// The command line's sources of a write token, read from `environment` (the process's by default)
    /// at each ask.
    public init(tokenFile: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.tokenFile = tokenFile
        self.environment = environment
    }

    /// The write token, or nil when neither source has one (then writes use the read credentials).
    /// Throws when the token file cannot be read or is empty.
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
