import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP

/// One object as the batch API answers for it.
public struct BatchObject: Sendable, Decodable {
    public struct Action: Sendable, Decodable {
        public var href: String
        public var header: [String: String]?
        public var expiresIn: Int?
        public var expiresAt: String?

        enum CodingKeys: String, CodingKey {
            case href, header
            case expiresIn = "expires_in"
            case expiresAt = "expires_at"
        }

        /// When the action stops working, from `expires_in` (preferred, as git-lfs prefers it) or
        /// `expires_at` (RFC 3339, fractions and offsets included). Nil when neither says: a link
        /// that turns out to have expired is refused by its storage host with 401 or 403, and the
        /// object is then asked for once more (`Fetcher`).
        func expiry(receivedAt: Date) -> Date? {
            if let expiresIn { return receivedAt.addingTimeInterval(TimeInterval(expiresIn)) }
            if let expiresAt { return RFC3339.date(expiresAt) }
            return nil
        }
    }
    public struct ObjectError: Sendable, Decodable {
        public var code: Int
        public var message: String?
    }

    public var oid: String
    public var size: Int64
    public var authenticated: Bool?
    public var actions: [String: Action]?
    public var error: ObjectError?
    /// When this answer arrived, for action expiry.
    public var receivedAt = Date()

    enum CodingKeys: String, CodingKey { case oid, size, authenticated, actions, error }

    /// The action, unless it expires within `margin`.
    public func action(_ name: String, margin: TimeInterval = 30) -> Action? {
        guard let action = actions?[name] else { return nil }
        if let expiry = action.expiry(receivedAt: receivedAt), expiry.timeIntervalSinceNow < margin { return nil }
        return action
    }

    /// The origin `name`'s link points to (the storage host, for downloads and uploads), or nil.
    public func origin(of name: String) -> Origin? {
        actions?[name].flatMap { URL(string: $0.href) }.flatMap(Origin.init)
    }
}
