import Foundation

/// Where msgit looks for a token, in this order; the first that has one wins:
///
/// 1. a token file (`--token-file`), if given
/// 2. the `MSGIT_TOKEN` environment variable
/// 3. for ModelScope hosts (`modelscope.cn`, `modelscope.ai` and their subdomains),
///    `~/.modelscope/credentials/git_token`, where ModelScope's SDK saves it
///    (`MODELSCOPE_CREDENTIALS_PATH` moves the directory, as in the SDK)
/// 4. git's credential store files, `~/.git-credentials` then `$XDG_CONFIG_HOME/git/credentials`
///    (default `~/.config/git/credentials`), matched as git matches them, without running git
/// 5. `~/.netrc`
///
/// The username is the one stored with the token where there is one, else `oauth2`.
public struct StandardCredentials: CredentialProvider {
    public var tokenFile: URL?
    public var environment: [String: String]
    public var home: URL

    public init(tokenFile: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: URL? = nil) {
        self.tokenFile = tokenFile
        self.environment = environment
        self.home = home ?? environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
    }

    public func credential(for url: RemoteURL) throws -> Credential? {
        if let tokenFile {
            return Credential(token: try Self.readTokenFile(tokenFile), source: "--token-file \(tokenFile.path)")
        }
        if let token = environment["MSGIT_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return Credential(token: token, source: "MSGIT_TOKEN")
        }
        return try credential(forSecondaryOrigin: url)
    }

    /// Only the sources that bind a token to a host: the ModelScope file (for ModelScope hosts),
    /// git's credential store and netrc. Never the token file or MSGIT_TOKEN, which were given for
    /// the operation's own repository.
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? {
        if Self.isModelScope(url.host) {
            let directory = environment["MODELSCOPE_CREDENTIALS_PATH"].map { URL(fileURLWithPath: $0, isDirectory: true) }
                ?? home.appendingPathComponent(".modelscope/credentials", isDirectory: true)
            let file = directory.appendingPathComponent("git_token")
            if let token = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
               !token.isEmpty {
                return Credential(token: token, source: file.path)
            }
        }
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
        return nil
    }

    /// git's credential store files, in the order git reads them.
    public var gitCredentialFiles: [URL] {
        let xdg = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? home.appendingPathComponent(".config", isDirectory: true)
        return [home.appendingPathComponent(".git-credentials"), xdg.appendingPathComponent("git/credentials")]
    }

    static func isModelScope(_ host: String) -> Bool {
        let host = host.lowercased()
        return ["modelscope.cn", "modelscope.ai"].contains { host == $0 || host.hasSuffix("." + $0) }
    }

    static func readTokenFile(_ file: URL) throws -> String {
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
        ~/.modelscope/credentials/git_token, then git's credential store (~/.git-credentials; \
        'msgit auth store <url>' writes it there), then ~/.netrc
        """
}

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

/// git's credential store file format: one URL per line, `scheme://user:password@host[:port][/path]`,
/// user and password percent-encoded. Matched as git-credential-store does with
/// `credential.useHttpPath` unset: the scheme and host (with port, as written) must be equal, a
/// username in the repository URL must be equal, paths are not compared.
public enum GitCredentialStore {
    public struct Entry: Equatable, Sendable {
        public var scheme: String
        public var host: String
        public var username: String?
        public var password: String
    }

    public static func parse(_ line: Substring) -> Entry? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, let components = URLComponents(string: text), let scheme = components.scheme,
              let host = components.host, let password = components.percentEncodedPassword else { return nil }
        let hostPort = components.port.map { "\(host.lowercased()):\($0)" } ?? host.lowercased()
        return Entry(scheme: scheme.lowercased(), host: hostPort,
                     username: components.percentEncodedUser?.removingPercentEncoding,
                     password: password.removingPercentEncoding ?? password)
    }

    public static func lookup(_ url: RemoteURL, in text: String) -> Entry? {
        let host = url.port.map { "\(url.host):\($0)" } ?? url.host
        for line in text.split(whereSeparator: \.isNewline) {
            guard let entry = parse(line), entry.scheme == url.scheme, entry.host == host else { continue }
            if let wanted = url.username, entry.username != wanted { continue }
            return entry
        }
        return nil
    }

    /// `text` with the entry for (scheme, host, username) replaced by, or extended with, `entry`.
    public static func store(_ entry: Entry, in text: String) -> String {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            guard let old = parse(Substring(line)) else { return true }
            return !(old.scheme == entry.scheme && old.host == entry.host && old.username == entry.username)
        }
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#[]"))
        let user = (entry.username ?? Credential.defaultUsername).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let password = entry.password.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        lines.append("\(entry.scheme)://\(user):\(password)@\(entry.host)")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `~/.netrc`: `machine <host> login <user> password <token>` (and `default`), as curl reads it.
public enum Netrc {
    public struct Entry: Equatable, Sendable {
        public var login: String?
        public var password: String
    }

    public static func lookup(host: String, in text: String) -> Entry? {
        var tokens: [String] = []
        var skippingMacro = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if skippingMacro {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { skippingMacro = false }
                continue
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.first == "macdef" {
                skippingMacro = true
                continue
            }
            tokens += words.prefix { !$0.hasPrefix("#") }
        }
        var entries: [(machine: String?, entry: Entry)] = []
        var machine: String??
        var login: String?
        var password: String?
        func flush() {
            if let machine, let password { entries.append((machine, Entry(login: login, password: password))) }
            login = nil
            password = nil
        }
        var i = 0
        while i < tokens.count {
            switch tokens[i] {
            case "machine":
                flush()
                machine = i + 1 < tokens.count ? .some(tokens[i + 1].lowercased()) : nil
                i += 2
            case "default":
                flush()
                machine = .some(nil)
                i += 1
            case "login":
                login = i + 1 < tokens.count ? tokens[i + 1] : nil
                i += 2
            case "password":
                password = i + 1 < tokens.count ? tokens[i + 1] : nil
                i += 2
            case "account":
                i += 2
            default:
                i += 1
            }
        }
        flush()
        return entries.first { $0.machine == host.lowercased() }?.entry ?? entries.first { $0.machine == nil }?.entry
    }
}
