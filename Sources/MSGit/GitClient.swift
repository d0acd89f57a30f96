import Foundation
import GitCore
import HTTP
import LFS
import Logging

/// Network time limits for git and LFS traffic.
public struct Timeouts: Sendable, Hashable {
    /// Establishing a TCP connection.
    public var connect: Duration
    /// The longest a connection may go without sending or receiving a byte.
    public var idle: Duration

    /// Limits of 30 seconds to connect and 120 seconds of silence by default. `idle` bounds a pause,
    /// not a transfer: a download of many gigabytes that keeps moving is never cut off.
    public init(connect: Duration = .seconds(30), idle: Duration = .seconds(120)) {
        self.connect = connect
        self.idle = idle
    }
}

/// The entry point of the library: clone, fetch and push over smart HTTP(S), in process.
///
/// A `GitClient` holds configuration and the connections of its operations; it is `Sendable` and
/// may run any number of operations at once, and a service should make one and keep it: its LFS
/// transfers share one pool of HTTP connections (reused from one operation to the next, with
/// per-host limits that hold across all of them) and one budget of memory. Copies share them too.
/// Each operation resolves its credential once, sends the token only to the repository's origin,
/// runs libgit2 on a thread of its own, and is cancelled with its task (its requests only).
/// `shutdown()` ends everything the client runs.
public struct GitClient: Sendable {
    /// Where the token for reading comes from; also for writing when `writeCredentials` has none.
    /// Default: `StandardCredentials()`, the command line's order (MSGIT_TOKEN, ModelScope's saved
    /// token, git's credential store, netrc).
    public var credentials: any CredentialProvider
    /// Where a token meant for writing comes from (push, upload, mirror push targets). Default:
    /// `StandardWriteCredentials()` (MSGIT_PUSH_TOKEN). When it has none, a push to a repository
    /// uses `credentials`, and a mirror's push target only a credential stored for its own host.
    public var writeCredentials: (any CredentialProvider)?
    /// Overrides the username of every credential (default: the provider's, normally "oauth2").
    public var username: String?
    /// The time limits of every connection this client's operations make, git's and LFS's alike.
    /// Operations started after a change use the new limits.
    public var timeouts: Timeouts
    /// Where the operations log what they do (swift-log). Default: a logger that drops everything; the
    /// library never bootstraps logging. Whatever handler it has is wrapped in a `MaskingLogHandler`
    /// (here and whenever it is set), so every line and metadata value passes the `Redactor` before
    /// the service's handler sees it: a server's own words (`remote:` lines) and a provider's
    /// errors included.
    public var logger: Logger {
        // Whatever handler the service gives, tokens are masked before it sees a line.
        didSet { logger = MaskingLogHandler.masking(logger) }
    }
    /// Connections, memory budget and running operations, shared by every copy of this client.
    let resources: ClientResources

    /// Makes a client that runs nothing yet.
    ///
    /// Cheap to make: nothing is read and no connection opened until the first operation; the first
    /// client of the process also sets libgit2's User-Agent. A service makes one client and keeps it
    /// (see <doc:RunningAService>); a command-line program may make one per run.
    ///
    /// - Parameters:
    ///   - credentials: Where tokens for reading come from; by default the command line's order
    ///     (`StandardCredentials`). Asked once per operation, before its first request.
    ///   - writeCredentials: Where tokens for writing come from; nil to use `credentials` for writes
    ///     too.
    ///   - username: The username sent with every token, in place of the provider's (normally
    ///     `oauth2`).
    ///   - timeouts: The connect and idle limits of every connection.
    ///   - logger: Where the operations log; by default nowhere.
    public init(credentials: any CredentialProvider = StandardCredentials(),
                writeCredentials: (any CredentialProvider)? = StandardWriteCredentials(), username: String? = nil,
                timeouts: Timeouts = Timeouts(), logger: Logger = Logger(label: "msgit", factory: { _ in SwiftLogNoOpLogHandler() })) {
        _ = Self.libgit2Configured
        self.credentials = credentials
        self.writeCredentials = writeCredentials
        self.username = username
        self.timeouts = timeouts
        self.logger = MaskingLogHandler.masking(logger)
        resources = ClientResources()
    }

    /// Cancels every operation this client (or a copy of it) runs, closes its connections, and
    /// refuses new operations (`.cancelled`), as AsyncHTTPClient's `shutdown()` ends a client. Call
    /// it when the service stops; operations under way throw `.cancelled`.
    public func shutdown() {
        resources.shutdown()
    }

    /// The LFS transfer pool of this client's timeouts.
    func transferPool() throws(MSGitError) -> TransferPool {
        try resources.pool(for: timeouts)
    }

    /// The User-Agent of git smart HTTP requests, libgit2's and msgit's own (see `UserAgent`).
    static let gitUserAgent = UserAgent.git(libgit2Version: GitCore.libgit2Version)

    /// libgit2's process-wide User-Agent, set once before the first operation.
    private static let libgit2Configured: Void = {
        GitCore.setUserAgent(UserAgent.libgit2Product(libgit2Version: GitCore.libgit2Version))
    }()

    /// A git operation of this client: its timeouts, and cancelled by `shutdown()`.
    func makeOperation() throws(MSGitError) -> GitOperation {
        try resources.operation(timeouts)
    }

    /// Turns any error of an operation on `url` into an `MSGitError`. Authentication failures are
    /// completed with the server's own words (one extra request), and an authentication failure
    /// that hides a missing repository is reported as one.
    func explain(_ error: any Error, url: RemoteURL?, credential: Credential?) async -> MSGitError {
        var failure = MSGitError.from(error, url: url)
        // `auth check` does not come here: a diagnosis changes no keychain.
        if failure.kind == .authenticationRejected { await tell(credential, for: url, accepted: false) }
        guard let url, failure.kind == .authenticationRejected || failure.kind == .authenticationRequired else {
            return failure
        }
        guard let pool = try? transferPool(),
              let answer = await AuthProbe.ask(url, credential: credential, through: pool.http) else {
            return failure
        }
        switch StatusMeaning(answer.status) {
        case .notFound:
            return MSGitError(.notFound, "repository '\(url)' not found",
                              hint: "check the URL; on a private repository a token without access may also look like this")
        case .refused:
            if !answer.body.isEmpty { failure.serverMessage = answer.body.redacted }
            if failure.kind == .authenticationRejected && !failure.message.contains(answer.body) && !answer.body.isEmpty {
                failure.message += ": \(answer.body.redacted)"
            }
            return failure
        default:
            return failure
        }
    }
}

extension GitClient {
    /// Tells the provider that gave `credential` whether the hub at `url` accepted it, as git's
    /// `credential approve` and `credential reject` do: a keychain keeps a token that works and
    /// forgets one that was refused, so that the next run asks for the rotated one. A provider's
    /// failure is logged, never the operation's; helpers run off the concurrency pool.
    func tell(_ credential: Credential?, for url: RemoteURL?, accepted: Bool) async {
        guard let credential, let url, let provider = credential.provider else { return }
        do {
            try await BlockingWork.run {
                if accepted { try provider.approve(credential, for: url) } else { try provider.reject(credential, for: url) }
            }
        } catch {
            logger.warning("\(error)")
        }
    }
}
