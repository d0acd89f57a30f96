import Foundation
import GitCore
import Logging

/// Network time limits for git and LFS traffic.
public struct Timeouts: Sendable, Equatable {
    /// Establishing a TCP connection.
    public var connect: Duration
    /// The longest a connection may go without sending or receiving a byte.
    public var idle: Duration

    public init(connect: Duration = .seconds(30), idle: Duration = .seconds(120)) {
        self.connect = connect
        self.idle = idle
    }
}

/// The entry point of the library: clone, fetch and push over smart HTTP(S), in process.
///
/// A `GitClient` is a value holding configuration; it is `Sendable` and may run any number of
/// operations at once. Each operation resolves its credential once, sends the token only to the
/// repository's origin, runs libgit2 on a thread of its own, and is cancelled with its task.
public struct GitClient: Sendable {
    public var credentials: any CredentialProvider
    /// Overrides the username of every credential (default: the provider's, normally "oauth2").
    public var username: String?
    public var timeouts: Timeouts
    public var logger: Logger

    public init(credentials: any CredentialProvider = EnvironmentCredentials(), username: String? = nil,
                timeouts: Timeouts = Timeouts(), logger: Logger = Logger(label: "msgit", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.credentials = credentials
        self.username = username
        self.timeouts = timeouts
        self.logger = logger
    }

    func makeOperation() -> GitOperation {
        GitOperation(connectTimeout: timeouts.connect, idleTimeout: timeouts.idle)
    }

    /// Turns any error of an operation on `url` into an `MSGitError`. Authentication failures are
    /// completed with the server's own words (one extra request), and an authentication failure
    /// that hides a missing repository is reported as one.
    func explain(_ error: any Error, url: RemoteURL?, credential: Credential?) async -> MSGitError {
        var failure = MSGitError.from(error, url: url)
        guard let url, failure.kind == .authenticationRejected || failure.kind == .authenticationRequired else {
            return failure
        }
        guard let answer = await AuthProbe.ask(url, credential: credential, timeout: min(timeouts.idle, .seconds(30))) else {
            return failure
        }
        switch answer.status {
        case 404:
            return MSGitError(.notFound, "repository '\(url)' not found",
                              hint: "check the URL; on a private repository a token without access may also look like this")
        case 401, 403:
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

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// Seconds rounded to the millisecond, for reports.
    var milliseconds: Double { (seconds * 1000).rounded() / 1000 }
}
