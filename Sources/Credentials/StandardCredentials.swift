import Foundation

/// Where msgit looks for a token, in this order; the first that has one wins:
///
/// 1. a token file (`--token-file`), if given
/// 2. the `MSGIT_TOKEN` environment variable
/// 3. for ModelScope hosts (`modelscope.cn`, `modelscope.ai` and their subdomains),
///    `~/.modelscope/credentials/git_token`, where ModelScope's SDK saves it
///    (`MODELSCOPE_CREDENTIALS_PATH` moves the directory, as in the SDK)
/// 4. for Hugging Face hosts (huggingface.co and its subdomains, hf.co, the origin of
///    `HF_ENDPOINT`: `HuggingFace.isHub`), the token where huggingface_hub finds it:
///    `HF_TOKEN`, then `HUGGING_FACE_HUB_TOKEN`, then the file `HF_TOKEN_PATH`, else
///    `$HF_HOME/token` (default `~/.cache/huggingface/token`, where `hf auth login` saves it)
/// 5. git's credential helpers (`credential.helper` and `credential.<url>.helper` in git's
///    configuration), asked as git asks them, without git (`GitCredentialHelpers`)
/// 6. git's credential store files, `~/.git-credentials` then `$XDG_CONFIG_HOME/git/credentials`
///    (default `~/.config/git/credentials`), matched as git matches them, without running git
/// 7. `~/.netrc`
///
/// The username is the one stored with the token where there is one, `hf_user` with a Hugging
/// Face token (`HuggingFace.username`), else `oauth2`.
///
/// The hub-bound sources (3 and 4) are read for their own hosts only, and for those hosts also as
/// a secondary origin (an LFS server on another host of the same hub than the repository's),
/// since the token was kept for the hub, not for one repository. `MSGIT_TOKEN` and the token file
/// come first because they were given for this operation, whichever hub it reaches.
///
/// A helper that fails does not stop the search: the store files and netrc are still read, and
/// the helpers' failures are thrown only when no source had a token.
public struct StandardCredentials: CredentialProvider {
    /// A file whose first line is the token (`--token-file`), read at each ask; when set it is the only
    /// source.
    public var tokenFile: URL?
    /// The environment read for `MSGIT_TOKEN`, `MODELSCOPE_CREDENTIALS_PATH`, `XDG_CONFIG_HOME` and
    /// git's own variables; the process's by default. Setting it sets the helpers' too.
    public var environment: [String: String] {
        didSet { helpers.environment = environment }
    }
    /// The home directory the files are looked for in; `HOME` by default. Setting it sets the helpers'
    /// too.
    public var home: URL {
        didSet { helpers.home = home }
    }
    /// git's credential helpers, read with the same environment and home (set its `timeout`,
    /// `logger` or `gitDirectory` here).
    public var helpers: GitCredentialHelpers

    /// The command line's sources, read with `environment` and `home` (by default the process's and
    /// `HOME`), so that a test or a service reads exactly the files it means to. Nothing is read until
    /// a credential is asked for.
    public init(tokenFile: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: URL? = nil) {
        self.tokenFile = tokenFile
        self.environment = environment
        let home = home ?? environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        self.home = home
        helpers = GitCredentialHelpers(environment: environment, home: home)
    }

    /// The first token found, in the order above. Throws when the token file cannot be read or is
    /// empty, when a credential helper answers `quit=1`, and when helpers failed and no other source
    /// had a token; git's configuration that cannot be parsed throws too.
    public func credential(for url: RemoteURL) throws -> Credential? {
        if let tokenFile {
            return Credential(token: try Self.readTokenFile(tokenFile), source: "--token-file \(tokenFile.path)")
        }
        if let token = environment["MSGIT_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return Credential(token: token, source: "MSGIT_TOKEN")
        }
        return try lookUp(url, secondaryOrigin: false)
    }

    /// Only the sources that bind a token to a host: the ModelScope file (for ModelScope hosts),
    /// Hugging Face's token (for Hugging Face hosts), the credential helpers that keep
    /// credentials per host (see `GitCredentialHelpers.credential(forSecondaryOrigin:)`), git's
    /// credential store and netrc. Never the token file or MSGIT_TOKEN, which were given for the operation's own
    /// repository.
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? {
        try lookUp(url, secondaryOrigin: true)
    }

    /// Hands the credential back to git's credential helpers if they gave it.
    public func approve(_ credential: Credential, for url: RemoteURL) throws {
        try helpers.approve(credential, for: url)
    }

    /// Hands the credential back to git's credential helpers if they gave it.
    public func reject(_ credential: Credential, for url: RemoteURL) throws {
        try helpers.reject(credential, for: url)
    }

    private func lookUp(_ url: RemoteURL, secondaryOrigin: Bool) throws -> Credential? {
        if Self.isModelScope(url.host) {
            let directory = environment["MODELSCOPE_CREDENTIALS_PATH"].map { URL(fileURLWithPath: $0, isDirectory: true) }
                ?? home.appendingPathComponent(".modelscope/credentials", isDirectory: true)
            let file = directory.appendingPathComponent("git_token")
            if let token = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
               !token.isEmpty {
                return Credential(token: token, source: file.path)
            }
        }
        if HuggingFace.isHub(url, environment: environment),
           let credential = HuggingFace.credential(environment: environment, home: home) {
            return credential
        }
        let fill = try helpers.fill(for: url, secondaryOrigin: secondaryOrigin)
        if let credential = fill.credential { return credential }
        for file in gitCredentialFiles {
            if let text = try? String(contentsOf: file, encoding: .utf8),
               let found = GitCredentialStore.lookup(url, in: text) {
                return Credential(username: found.username ?? Credential.defaultUsername, token: found.password,
                                  source: file.path)
            }
        }
        let netrc = home.appendingPathComponent(".netrc")
        if let text = try? String(contentsOf: netrc, encoding: .utf8), let found = Netrc.lookup(host: url.host, in: text) {
            return Credential(username: found.login ?? Credential.defaultUsername, token: found.password,
                              source: netrc.path)
        }
        if let error = fill.error { throw error }
        return nil
    }

    /// git's credential store files, in the order git reads them.
    public var gitCredentialFiles: [URL] {
        let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? home.appendingPathComponent(".config", isDirectory: true)
        return [home.appendingPathComponent(".git-credentials"), xdg.appendingPathComponent("git/credentials")]
    }

    package static func isModelScope(_ host: String) -> Bool {
        let host = host.lowercased()
        return ["modelscope.cn", "modelscope.ai"].contains { host == $0 || host.hasSuffix("." + $0) }
    }

    package static func readTokenFile(_ file: URL) throws -> String {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw MSGitError(.invalidArgument, "cannot read the token file '\(file.path)'")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else {
            throw MSGitError(.invalidArgument, "the token file '\(file.path)' is empty")
        }
        return token
    }

    /// Where to put a token, for messages.
    public static let sourcesHelp = """
        msgit looks for a token in --token-file, then MSGIT_TOKEN, then (for ModelScope) \
        ~/.modelscope/credentials/git_token, then (for Hugging Face) HF_TOKEN, HUGGING_FACE_HUB_TOKEN \
        and the file HF_TOKEN_PATH or $HF_HOME/token (~/.cache/huggingface/token, where 'hf auth login' \
        saves it), then git's credential helpers (credential.helper in \
        git's configuration), then git's credential store (~/.git-credentials; \
        'msgit auth store <url>' writes it there), then ~/.netrc
        """
}
