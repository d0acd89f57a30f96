import Credentials

extension CredentialResolution {
    /// The credential `client` has for `url` and `purpose` (see the memberwise form).
    init(url: RemoteURL, client: GitClient, purpose: CredentialPurpose = .read, secrets: SecretScope) throws {
        try self.init(url: url, credentials: client.credentials, writeCredentials: client.writeCredentials,
                      username: client.username, logger: client.logger, purpose: purpose, secrets: secrets)
    }
}
