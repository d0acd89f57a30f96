import Foundation
import GitCore
import LFS

/// The one error type the MSGit library throws.
///
/// Switch on `kind`. `message` and `hint` are safe to show and to log: they never hold a token,
/// userinfo or a presigned URL's signature (they pass through the `Redactor` when made).
public struct MSGitError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// What went wrong, for callers that act on it. A struct with one static member per kind, as
    /// AsyncHTTPClient's `HTTPClientError`, so that new kinds can come without breaking code that
    /// switches over them: such a switch needs a `default`.
    public struct Kind: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The kind's name, as `--json` reports print it (`"authenticationRejected"`).
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// Something the caller gave is wrong: a malformed or unsupported URL, a refspec, a
        /// destination that is not empty, a branch the remote does not have.
        public static let invalidArgument = Kind("invalidArgument")
        /// The server wants credentials and none were found.
        public static let authenticationRequired = Kind("authenticationRequired")
        /// The server refused the credentials that were sent.
        public static let authenticationRejected = Kind("authenticationRejected")
        /// The repository (or another thing asked for) does not exist on the server.
        public static let notFound = Kind("notFound")
        /// The host could not be resolved or reached, or the connection broke.
        public static let network = Kind("network")
        /// A connection or a transfer made no progress within its time limit.
        public static let timeout = Kind("timeout")
        /// The operation's task was cancelled, or its `GitClient` was shut down (then the hint says to
        /// make a new client). A clone removes what it had made.
        public static let cancelled = Kind("cancelled")
        /// The server refused some references of a push; see `rejectedRefs`.
        public static let pushRejected = Kind("pushRejected")
        /// The server answered something other than the protocol (an HTML page, garbage).
        public static let protocolError = Kind("protocolError")
        /// Content did not match its object id (SHA-256 and size for LFS objects).
        public static let integrity = Kind("integrity")
        /// Git succeeded but some LFS objects could not be fetched; see `lfsFailures`.
        public static let lfsIncomplete = Kind("lfsIncomplete")
        /// A local file system error (disk full, permissions).
        public static let io = Kind("io")
        /// Local changes (or untracked files) are in the way of a pull or checkout; nothing was
        /// changed.
        public static let localChanges = Kind("localChanges")
        /// The branch and its upstream have diverged: a pull would have to merge, which msgit
        /// does not do.
        public static let notFastForward = Kind("notFastForward")
        /// Something from the repository or the server could write outside where it belongs if
        /// msgit acted on it: a tree entry that stands for `.git`, leaves the work tree or is in
        /// the tree twice, a name in a manifest that would leave `--into`, a work-tree path that
        /// leads through a symbolic link. Nothing was written for it.
        public static let unsafePath = Kind("unsafePath")
        /// Any other error libgit2 reported.
        public static let git = Kind("git")

        /// The kind's name, as `rawValue`.
        public var description: String { rawValue }

        /// Reads a kind from its name. A name this version does not know is kept as it is, and compares
        /// equal to no static kind.
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        /// Writes the kind's name, as a single string.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// What went wrong, for code that acts on it; switch on it with a `default`.
    public var kind: Kind
    /// What went wrong, in git's words where git has them; safe to show and to log.
    public var message: String
    /// What the user can do about it.
    public var hint: String?
    /// What the server said, when it said something useful (e.g. "HTTP Basic: Access denied").
    public var serverMessage: String?
    /// The references a push could not update, each with its reason; set with `.pushRejected`.
    public var rejectedRefs: [RejectedReference] = []
    /// The LFS files that stayed pointers, each with its reason; set with `.lfsIncomplete`.
    public var lfsFailures: [LFSFailure] = []

    /// An error of `kind`, as the library makes them and as a service's test doubles may.
    /// `message`, `hint` and `serverMessage` pass through the `Redactor`: a token held by a running
    /// operation never ends up in them.
    public init(_ kind: Kind, _ message: String, hint: String? = nil, serverMessage: String? = nil) {
        self.kind = kind
        self.message = message.redacted
        self.hint = hint?.redacted
        self.serverMessage = serverMessage?.redacted
    }

    /// The message, followed by what the server said, the rejected references, the LFS failures and the
    /// hint, one per line, as the command line prints it.
    public var description: String {
        var text = message
        if let serverMessage, !message.contains(serverMessage) { text += "\nserver said: \(serverMessage)" }
        for rejection in rejectedRefs { text += "\n ! [rejected] \(rejection.reference) (\(rejection.reason))" }
        for failure in lfsFailures { text += "\n \(failure.path): \(failure.reason)" }
        if let hint { text += "\nhint: " + hint.replacingOccurrences(of: "\n", with: "\nhint: ") }
        return text
    }

    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

extension MSGitError {
    package static func cancelled() -> MSGitError { MSGitError(.cancelled, "cancelled") }

    /// Maps any error from the layers below to an `MSGitError`, naming `url` where it helps.
    package static func from(_ error: any Error, url: RemoteURL? = nil) -> MSGitError {
        switch error {
        case let error as MSGitError:
            return error
        case is CancellationError:
            return .cancelled()
        case let error as GitError:
            return from(gitError: error, url: url)
        case let error as UnsafeTreeEntry:
            return MSGitError(.unsafePath, "refusing to check out \(url.map { "'\($0)'" } ?? "the tree"): "
                + "the tree has \(error.description)", hint: "git's fsck refuses such trees too; nothing was written "
                + "from it. The repository is damaged or was made to attack its users")
        case let error as LFSError:
            let kind: Kind = switch error.kind {
            case .authentication: .authenticationRejected
            case .notFound: .notFound
            case .timeout: .timeout
            case .cancelled: .cancelled
            case .protocolError: .protocolError
            case .integrity: .integrity
            case .io: .io
            case .insecure: .invalidArgument
            default: .network  // .network, .server, and kinds to come
            }
            return MSGitError(kind, error.message)
        case let error as CocoaError:
            return MSGitError(.io, error.localizedDescription)
        default:
            return MSGitError(.git, String(describing: error))
        }
    }

    package static func from(gitError error: GitError, url: RemoteURL?) -> MSGitError {
        let where_ = url.map { " '\($0)'" } ?? ""
        switch error.streamFailure {
        case .cancelled: return .cancelled()
        case .connectTimeout: return MSGitError(.timeout, error.message, hint: "raise the limit with --connect-timeout <seconds>")
        case .idleTimeout: return MSGitError(.timeout, error.message, hint: "raise the limit with --timeout <seconds>")
        case .tooSlow:
            return MSGitError(.timeout, error.message,
                              hint: "a transfer must average 16 bytes a second over any --timeout seconds of waiting")
        case .offOrigin:
            return MSGitError(.authenticationRejected,
                              "\(url.map { "'\($0)'" } ?? "the server") redirected to another host or port after the token "
                                  + "was given (\(error.message)); msgit sends a token only to the host it was given for",
                              hint: "if the repository moved, use its new URL")
        case nil: break
        }
        let message = error.message
        let lower = message.lowercased()
        if lower.contains("cannot redirect from 'https' to 'http'") {
            return MSGitError(.protocolError, "\(url.map { "'\($0)'" } ?? "the server") redirected from https to plain http, "
                + "which msgit refuses: the token and the content would travel unencrypted")
        }
        if lower.contains("status code: 404") {
            return MSGitError(.notFound, "repository\(where_) not found",
                              hint: "check the URL; on a private repository a token without access may also look like this")
        }
        if lower.contains("status code: 401") || lower.contains("status code: 403") || error.code == .auth {
            return MSGitError(.authenticationRejected, "authentication failed for\(where_): \(message)")
        }
        if error.domain == .net && (lower.contains("failed to connect") || lower.contains("failed to resolve")
            || lower.contains("connection") || lower.contains("error reading") || lower.contains("error writing")) {
            return MSGitError(.network, "cannot reach\(where_): \(message)")
        }
        // libgit2 reports a wrong content type in the HTTP class and bad pkt-lines in the net class;
        // a "malformed" reference name or configuration value is not a protocol error.
        if error.domain == .net || error.domain == .http,
           lower.contains("content-type") || lower.contains("invalid packet") || lower.contains("bad packet")
            || lower.contains("pkt-line") || lower.contains("malformed") {
            return MSGitError(.protocolError,
                              "\(url.map { "'\($0)'" } ?? "the server") did not answer with the git smart HTTP protocol (\(message))",
                              hint: "check that the URL is the repository's clone URL")
        }
        if error.domain == .os {
            return MSGitError(.io, message)
        }
        return MSGitError(.git, message)
    }
}
