internal import CLibgit2

/// A reference the server refused to update during a push, with its reason.
public struct RefRejection: Sendable, Equatable, Hashable {
    public var reference: String
    public var reason: String
    public init(reference: String, reason: String) {
        self.reference = reference
        self.reason = reason
    }
}

/// A reference changed by a fetch or push (`old` is nil for a new reference).
public struct RefUpdate: Sendable, Equatable {
    public var reference: String
    public var old: ObjectID?
    public var new: ObjectID?
}
