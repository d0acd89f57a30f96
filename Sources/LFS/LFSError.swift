import HTTP

/// An error of the LFS layer. `message` names what went wrong and never holds a secret.
public struct LFSError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. A struct with static members, not an enum, so kinds can be added without
    /// breaking code that switches over them (which needs a `default`).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        /// The kind's name ("notFound").
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        /// The kind's name, as `rawValue`.
        public var description: String { rawValue }

        /// The server refused the credentials (or sent none it wanted).
        public static let authentication = Kind("authentication")
        /// The server does not have the repository or the object (HTTP 404).
        public static let notFound = Kind("notFound")
        /// A connection or an exchange made no progress within its limit.
        public static let timeout = Kind("timeout")
        /// The task was cancelled, or the client shut down.
        public static let cancelled = Kind("cancelled")
        /// The connection failed or broke.
        public static let network = Kind("network")
        /// The server answered something other than the protocol.
        public static let protocolError = Kind("protocolError")
        /// Content did not match its pointer.
        public static let integrity = Kind("integrity")
        /// A local file system error.
        public static let io = Kind("io")
        /// The server answered with an error status.
        public static let server = Kind("server")
        /// The server refused a request as too large (HTTP 413): a batch of too many objects.
        public static let requestTooLarge = Kind("requestTooLarge")
        /// A request would have dropped from https to http.
        public static let insecure = Kind("insecure")
        /// A path leads through a symbolic link (or a file) where a directory must be, or names a
        /// link where a file must be: msgit writes through neither.
        public static let unsafePath = Kind("unsafePath")
    }
    /// What went wrong, for code that acts on it.
    public var kind: Kind
    /// What went wrong, naming the host and object; for messages and logs.
    public var message: String
    /// An error of `kind`; `message` must hold no secret, since it is shown and logged as it is.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    /// The message.
    public var description: String { message }

    /// A failed HTTP exchange in LFS's words; `what` names the exchange ("download of 1a2b3c...").
    init(_ failure: HTTPClient.Failure, what: String) {
        switch failure {
        case .cancelled: self.init(.cancelled, "cancelled")
        case .timeout(let seconds, let reason):
            self.init(.timeout, "\(what) timed out: " + (reason ?? "no data for \(seconds) s"))
        case .tooLarge(let message): self.init(.protocolError, "\(what) failed: \(message)")
        case .shutDown: self.init(.cancelled, "\(what) did not start: the client was shut down")
        case .insecureRedirect(let from, let to):
            self.init(.insecure, "refused a redirect from \(from) to \(to): https must not drop to http")
        case .local(let message): self.init(.io, message)
        case .transport(let message): self.init(.network, "\(what) failed: \(message)")
        }
    }
}
