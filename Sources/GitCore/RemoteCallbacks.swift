internal import CLibgit2

/// A username and secret handed to libgit2 for HTTP Basic authentication, and the one endpoint
/// it may go to.
public struct GitCredential: Sendable {
    /// Where a credential may be sent: a host and port, and 443 on the same host when the
    /// credential's origin is plain http and an upgrade to https is allowed.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var upgradePort: Int?
        public init(host: String, port: Int, upgradePort: Int? = nil) {
            self.host = host
            self.port = port
            self.upgradePort = upgradePort
        }

        public func admits(host other: String, port otherPort: Int) -> Bool {
            func bare(_ h: String) -> String { h.hasPrefix("[") && h.hasSuffix("]") ? String(h.dropFirst().dropLast()) : h }
            return bare(host).lowercased() == bare(other).lowercased() && (otherPort == port || otherPort == upgradePort)
        }
    }

    public var username: String
    public var password: String
    public var endpoint: Endpoint
    public init(username: String, password: String, endpoint: Endpoint) {
        self.username = username
        self.password = password
        self.endpoint = endpoint
    }
}

/// What libgit2 asks for when a server wants credentials.
public struct CredentialRequest: Sendable {
    /// The URL of the request that was refused (after any redirect), as libgit2 reports it.
    public var url: String
    /// The username embedded in the remote URL, if any.
    public var usernameFromURL: String?
    /// 1 for the first request after a 401, 2 when the first answer was refused too, and so on.
    public var attempt: Int
}

/// Network-side progress of a fetch, as libgit2's indexer reports it.
public struct IndexerProgress: Sendable, Equatable {
    public var totalObjects = 0
    public var receivedObjects = 0
    public var indexedObjects = 0
    public var localObjects = 0
    public var totalDeltas = 0
    public var indexedDeltas = 0
    public var receivedBytes: UInt64 = 0
    public init() {}
}

/// Progress of the packing and sending side of a push.
public struct PushTransferProgress: Sendable, Equatable {
    public var current = 0
    public var total = 0
    public var bytes: UInt64 = 0
}

/// The Swift side of `git_remote_callbacks` for one remote operation.
///
/// Handlers run on the libgit2 thread. A handler that throws stops the operation; the operation
/// then rethrows that error instead of libgit2's generic one.
public struct RemoteCallbacks {
    public var credentials: ((CredentialRequest) throws -> GitCredential)?
    public var transferProgress: ((IndexerProgress) -> Void)?
    public var pushTransferProgress: ((PushTransferProgress) -> Void)?
    /// Text the server sends on the side band ("remote: ..." lines), one whole line per call, without
    /// its line break, however libgit2 split it into packets.
    public var serverMessage: ((String) -> Void)?
    public init() {}
}
