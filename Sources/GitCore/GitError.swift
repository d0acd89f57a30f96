internal import CLibgit2

/// An error reported by libgit2, read from `git_error_last()` right after the failing call.
///
/// `code` is libgit2's return code (`git_error_code`), `domain` its error class (`git_error_t`).
/// Both are plain integers with named constants, so callers can switch on them without importing C.
public struct GitError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let genericError = Code(rawValue: GIT_ERROR.rawValue)
        public static let notFound = Code(rawValue: GIT_ENOTFOUND.rawValue)
        public static let exists = Code(rawValue: GIT_EEXISTS.rawValue)
        public static let ambiguous = Code(rawValue: GIT_EAMBIGUOUS.rawValue)
        public static let user = Code(rawValue: GIT_EUSER.rawValue)
        public static let unbornBranch = Code(rawValue: GIT_EUNBORNBRANCH.rawValue)
        public static let nonFastForward = Code(rawValue: GIT_ENONFASTFORWARD.rawValue)
        public static let invalidSpec = Code(rawValue: GIT_EINVALIDSPEC.rawValue)
        public static let conflict = Code(rawValue: GIT_ECONFLICT.rawValue)
        public static let locked = Code(rawValue: GIT_ELOCKED.rawValue)
        public static let auth = Code(rawValue: GIT_EAUTH.rawValue)
        public static let certificate = Code(rawValue: GIT_ECERTIFICATE.rawValue)
        public static let invalid = Code(rawValue: GIT_EINVALID.rawValue)
    }

    public struct Domain: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let none = Domain(rawValue: Int32(GIT_ERROR_NONE.rawValue))
        public static let os = Domain(rawValue: Int32(GIT_ERROR_OS.rawValue))
        public static let reference = Domain(rawValue: Int32(GIT_ERROR_REFERENCE.rawValue))
        public static let net = Domain(rawValue: Int32(GIT_ERROR_NET.rawValue))
        public static let ssl = Domain(rawValue: Int32(GIT_ERROR_SSL.rawValue))
        public static let http = Domain(rawValue: Int32(GIT_ERROR_HTTP.rawValue))
        public static let callback = Domain(rawValue: Int32(GIT_ERROR_CALLBACK.rawValue))
        public static let checkout = Domain(rawValue: Int32(GIT_ERROR_CHECKOUT.rawValue))
    }

    /// Why the operation's network stream gave up, when it was our stream that did.
    public enum StreamFailure: Sendable, Equatable {
        case connectTimeout, idleTimeout, cancelled
        /// A request would have gone to another origin than the one the operation's credential
        /// is for (a redirect elsewhere after the credential was given).
        case offOrigin
        /// A connection moved fewer bytes than the low-speed limit allows over a stretch of the
        /// idle limit.
        case tooSlow
    }

    public var code: Code
    public var domain: Domain
    public var message: String
    /// The libgit2 function that failed.
    public var function: String
    public var streamFailure: StreamFailure?

    public init(code: Code, domain: Domain, message: String, function: String, streamFailure: StreamFailure? = nil) {
        self.code = code
        self.domain = domain
        self.message = message
        self.function = function
        self.streamFailure = streamFailure
    }

    public var description: String { "\(function): \(message)" }
}

/// The funnel every libgit2 call goes through: a negative return becomes a `GitError` carrying
/// libgit2's message, which must be read at once because it is per thread and the next call clears it.
func check(_ result: Int32, _ function: String) throws(GitError) {
    guard result < 0 else { return }
    throw lastError(code: result, function: function)
}

func lastError(code: Int32, function: String) -> GitError {
    var message = "unknown error"
    var domain = GitError.Domain.none
    if let last = git_error_last() {
        if let text = last.pointee.message { message = String(cString: text) }
        domain = GitError.Domain(rawValue: last.pointee.klass)
    }
    return GitError(code: GitError.Code(rawValue: code), domain: domain, message: message, function: function)
}
