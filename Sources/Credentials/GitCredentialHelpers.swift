import Foundation
import Logging

/// The credential helpers configured for git (`credential.helper`, `credential.<url>.helper`),
/// asked as git asks them, without git: libsecret, Git Credential Manager, osxkeychain, `store`,
/// `cache` and `!shell` snippets keep working, rotated tokens included.
///
/// For a URL, git's configuration is read (`GitConfig`), the helpers, username and
/// `useHttpPath` that apply are chosen as git chooses them (`GitCredentialSettings`), and the
/// helpers are asked in order with `get` until one gives a username and a password (the username
/// may come from the URL or `credential.username` instead; a password alone is taken with the
/// username `oauth2` once every helper has been asked, where git would prompt for a username).
/// A password whose `password_expiry_utc` has passed is dropped, and the next helper asked.
/// `quit=1` stops the search with an error, as git stops.
///
/// Where msgit differs from git, it is stricter: a helper that fails (a non-zero exit, a line
/// that is not `key=value`, no answer within `timeout`) has its whole answer ignored and is
/// reported, where git would take what it had read; its standard error is kept (the first line,
/// bounded, the token masked) for the report rather than shown raw. No helper is allowed to
/// prompt for long: one that waits on the terminal runs into `timeout` like one that hangs.
///
/// `approve` (`store`) and `reject` (`erase`) go to every helper for the URL, as git's
/// `credential_approve` and `credential_reject` do, and only for a credential these helpers gave
/// for that very protocol and host.
public struct GitCredentialHelpers: CredentialProvider {
    /// The environment git's configuration is read with (`GIT_CONFIG_*`, `XDG_CONFIG_HOME`) and the
    /// helpers run in; the process's by default.
    public var environment: [String: String]
    /// The home directory of `~/.gitconfig` and the helpers; `HOME` by default, nil when it is unset.
    public var home: URL?
    /// A repository's `.git` directory, whose `config` is read after the global files.
    public var gitDirectory: URL?
    /// How long one helper may take to answer before it is killed and reported.
    public var timeout: Duration
    /// Where failures of helpers that did not prevent a credential from being found are logged.
    public var logger: Logger

    /// The helpers of git's configuration as read with `environment` and `home`; nothing is read or run
    /// until a credential is asked for. `logger` defaults to a swift-log logger labelled
    /// `msgit.credential-helpers`, which goes wherever the process bootstrapped logging (standard error
    /// when nothing was bootstrapped).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, home: URL? = nil,
                gitDirectory: URL? = nil, timeout: Duration = .seconds(30),
                logger: Logger = Logger(label: "msgit.credential-helpers", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.environment = environment
        self.home = home ?? environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
        self.gitDirectory = gitDirectory
        self.timeout = timeout
        self.logger = MaskingLogHandler.masking(logger)
    }

    /// What a helper said with a credential it gave, to hand back to the helpers on `approve`
    /// and `reject`; kept in the `Credential`, and its presence is how a credential is known to
    /// come from here.
    package struct Answer: Sendable, Equatable {
        var protocolName: String?
        var host: String?
        var helper: String
        var oauthRefreshToken: String?
        var passwordExpiry: Int64?
    }

    /// A search through the helpers: the credential found, if any, and the helpers that failed.
    package struct Fill {
        var credential: Credential?
        var failures: [HelperFailure]

        /// The failures as one error, when no credential was found because of them.
        var error: MSGitError? {
            guard credential == nil, !failures.isEmpty else { return nil }
            return MSGitError(.authenticationRequired,
                              "no credential from git's credential helpers: "
                                  + failures.map(\.description).joined(separator: "; "),
                              hint: "check the helper with 'git credential fill', or give a token another way")
        }
    }

    /// The first credential the helpers give for `url`, asked in order; nil when none has one. Throws
    /// when a helper answers `quit=1`, when helpers failed and none gave a credential, and when git's
    /// configuration cannot be parsed.
    public func credential(for url: RemoteURL) throws -> Credential? {
        let fill = try fill(for: url, secondaryOrigin: false)
        if let error = fill.error { throw error }
        return fill.credential
    }

    /// Only helpers that keep credentials per host are asked for a host the operation reaches on
    /// its own (an LFS server named by `.lfsconfig`): those configured for that very host
    /// (`credential.https://lfs.example.helper`, no `*`) and git's storing helpers (`store`,
    /// `cache`, `osxkeychain`, `libsecret`, `gnome-keyring`, `wincred`). A `!snippet` or
    /// program configured for every host may answer with the same token whatever the host, and
    /// is not asked.
    public func credential(forSecondaryOrigin url: RemoteURL) throws -> Credential? {
        let fill = try fill(for: url, secondaryOrigin: true)
        if let error = fill.error { throw error }
        return fill.credential
    }

    /// The helpers git would ask for `url`, as configured, in order.
    public func helpers(for url: RemoteURL) throws(MSGitError) -> [String] {
        try settings(for: url).helpers.map(\.command)
    }

    /// Tells every helper for `url` to `store` `credential`, once the hub has accepted it, as
    /// git's `credential_approve`. Does nothing for a credential these helpers did not give for
    /// `url`'s protocol and host, or whose password has expired. Every helper is told even when
    /// one fails; the failures are thrown afterwards.
    public func approve(_ credential: Credential, for url: RemoteURL) throws {
        try tell(.store, credential, for: url)
    }

    /// Tells every helper for `url` to `erase` `credential`, after the hub refused it
    /// ("HTTP Basic: Access denied"), as git's `credential_reject`, so that a rotated token is
    /// asked for next time instead of the stale one. Same conditions as `approve`.
    public func reject(_ credential: Credential, for url: RemoteURL) throws {
        try tell(.erase, credential, for: url)
    }

    // MARK: - Internals

    package static let hostKeyedHelpers: Set<String> = ["store", "cache", "osxkeychain", "libsecret", "gnome-keyring", "wincred"]

    package func settings(for url: RemoteURL) throws(MSGitError) -> GitCredentialSettings {
        let config = try GitConfig.load(environment: environment, home: home, gitDirectory: gitDirectory)
        return try GitCredentialSettings(for: GitCredentialSettings.request(for: url), config: config)
    }

    private func makeHelpers(_ settings: GitCredentialSettings, secondaryOrigin: Bool) -> [CredentialHelper] {
        let git = CredentialHelper.findGit(environment)
        return settings.helpers.filter { helper in
            guard secondaryOrigin else { return true }
            let name = helper.command.prefix { !$0.isWhitespace }
            return helper.namesHost || Self.hostKeyedHelpers.contains(String(name))
        }.map { CredentialHelper($0.command, environment: environment, home: home, git: git) }
    }

    /// Asks the helpers for `url` in order, as git's `credential_fill`.
    package func fill(for url: RemoteURL, secondaryOrigin: Bool) throws(MSGitError) -> Fill {
        let settings = try settings(for: url)
        var current = settings.request
        var failures: [HelperFailure] = []
        var answeredBy: CredentialHelper?
        for helper in makeHelpers(settings, secondaryOrigin: secondaryOrigin) {
            do throws(HelperFailure) {
                let answer = try helper.run(.get, current, protectCarriageReturn: settings.protectProtocol,
                                            environment: environment, timeout: timeout)
                if answer.password != nil, answer.password != current.password { answeredBy = helper }
                current = answer
            } catch {
                failures.append(error)
                logger.warning("\(error.description)")
                continue
            }
            if current.isExpired(now: Int64(Date().timeIntervalSince1970)) {
                current.password = nil
                current.passwordExpiry = nil
            }
            if current.username != nil, current.password != nil { break }
            if current.quit {
                throw MSGitError(.authenticationRequired,
                                 "credential helper '\(helper.name(hiding: [current.password].compactMap { $0 }))' told msgit to quit",
                                 hint: "it answered quit=1, as git would stop too")
            }
        }
        guard let password = current.password, let helper = answeredBy else {
            return Fill(credential: nil, failures: failures)
        }
        let name = helper.name(hiding: [password, current.oauthRefreshToken].compactMap { $0 })
        if !failures.isEmpty {
            logger.info("using the credential of credential helper '\(name)' after \(failures.count) failed")
        }
        var credential = Credential(username: current.username ?? Credential.defaultUsername, token: password,
                                    source: "git credential helper '\(name)'")
        credential.helperAnswer = Answer(protocolName: settings.request.protocolName, host: settings.request.host,
                                         helper: helper.command, oauthRefreshToken: current.oauthRefreshToken,
                                         passwordExpiry: current.passwordExpiry)
        return Fill(credential: credential, failures: failures)
    }

    private func tell(_ action: CredentialHelper.Action, _ credential: Credential, for url: RemoteURL) throws(MSGitError) {
        guard let answer = credential.helperAnswer else { return }
        let settings = try settings(for: url)
        guard answer.protocolName == settings.request.protocolName, answer.host == settings.request.host else { return }
        var description = settings.request
        description.username = credential.username
        description.password = credential.token
        description.oauthRefreshToken = answer.oauthRefreshToken
        description.passwordExpiry = answer.passwordExpiry
        if action == .store, description.isExpired(now: Int64(Date().timeIntervalSince1970)) { return }
        var failures: [HelperFailure] = []
        for helper in makeHelpers(settings, secondaryOrigin: false) {
            do throws(HelperFailure) {
                _ = try helper.run(action, description, protectCarriageReturn: settings.protectProtocol,
                                   environment: environment, timeout: timeout)
            } catch {
                failures.append(error)
            }
        }
        guard failures.isEmpty else {
            throw MSGitError(.io, "could not \(action.rawValue) the credential for \(url.origin): "
                + failures.map(\.description).joined(separator: "; "))
        }
    }
}
