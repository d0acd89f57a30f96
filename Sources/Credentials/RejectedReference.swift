import GitCore

/// A reference that was not updated by a push, with the reason (the server's, or git's own
/// client-side check such as "non-fast-forward").
public struct RejectedReference: Sendable, Equatable, Codable {
    /// The full name of the reference, e.g. "refs/heads/main".
    public var reference: String
    /// Why it was refused, masked of secrets: "non-fast-forward", or what the server or its hook said.
    public var reason: String

    /// `reason` is what the server said: it passes through the `Redactor` (a hook may echo anything).
    public init(reference: String, reason: String) {
        self.reference = reference.redacted
        self.reason = reason.redacted
    }

    package init(_ rejection: RefRejection) {
        self.init(reference: rejection.reference, reason: rejection.reason)
    }
}
