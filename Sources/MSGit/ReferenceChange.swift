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
