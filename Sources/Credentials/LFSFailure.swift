import Foundation

/// An LFS file that stayed a pointer, and why.
public struct LFSFailure: Sendable, Equatable, Codable {
    /// The file's path in the repository.
    public var path: String
    /// The SHA-256 of the object it points to.
    public var oid: String
    /// Why it could not be had, masked of secrets: the server's message, a checksum mismatch, no room.
    public var reason: String
    /// A failure with every field given; `reason` passes through the `Redactor`.
    public init(path: String, oid: String, reason: String) {
        self.path = path
        self.oid = oid
        self.reason = reason.redacted
    }
}
