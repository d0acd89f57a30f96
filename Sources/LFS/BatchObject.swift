import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP

/// One object as the batch API answers for it.
public struct BatchObject: Sendable, Decodable {
    /// Where to send or fetch the object's bytes: a link and the headers to send with it, valid for a
    /// time.
    public struct Action: Sendable, Decodable {
        /// The URL, often a presigned link to a storage host on another origin.
        public var href: String
        /// Headers to send with the request, as the server gives them (they may carry the storage
        /// host's own authorization, which wins over the hub's credential).
        public var header: [String: String]?
        /// Seconds the link stays valid from the answer (`expires_in`).
        public var expiresIn: Int?
        /// When the link stops working, as RFC 3339 text (`expires_at`).
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
    /// The server's refusal of one object.
    public struct ObjectError: Sendable, Decodable {
        /// An HTTP status, read as `StatusMeaning` reads one (404: the server does not have it; 422: a
        /// wrong size).
        public var code: Int
        /// What the server said, if anything.
        public var message: String?
    }

    /// The object's SHA-256, as the request named it.
    public var oid: String
    /// The object's size in bytes, as the request named it.
    public var size: Int64
    /// Whether the actions carry their own authentication (git-lfs's `authenticated`); nil when the
    /// server does not say.
    public var authenticated: Bool?
    /// The actions by name (`download`, `upload`, `verify`); none for an upload the server does not
    /// need.
    public var actions: [String: Action]?
    /// Set when the server refuses this object; `actions` is then nil.
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
