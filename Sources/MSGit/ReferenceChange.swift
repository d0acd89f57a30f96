import GitCore

/// A reference a fetch or push created, moved or deleted.
public struct ReferenceChange: Sendable, Equatable, Codable {
    /// The full name, e.g. "refs/remotes/origin/main".
    public var reference: String
    /// The commit it pointed to before, 40 hex digits; nil when it was created.
    public var old: String?
    /// The commit it points to after, 40 hex digits; nil when it was deleted.
    public var new: String?

    /// A change with every field given; `old` nil for a created reference, `new` nil for a deleted one.
    public init(reference: String, old: String?, new: String?) {
        self.reference = reference
        self.old = old
        self.new = new
    }

    init(_ update: RefUpdate) {
        self.init(reference: update.reference, old: update.old.flatMap { $0.isZero ? nil : $0.hex },
                  new: update.new.flatMap { $0.isZero ? nil : $0.hex })
    }
}

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

    init(_ rejection: RefRejection) {
        self.init(reference: rejection.reference, reason: rejection.reason)
    }
}
