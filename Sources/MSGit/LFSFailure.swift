import Foundation

/// An LFS file that stayed a pointer, and why.
public struct LFSFailure: Sendable, Equatable, Codable {
    public var path: String
    public var oid: String
    public var reason: String
    public init(path: String, oid: String, reason: String) {
        self.path = path
        self.oid = oid
        self.reason = reason.redacted
    }
}
