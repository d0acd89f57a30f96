import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A credential and the one origin it may be sent to.
///
/// This is the only code in msgit that decides whether a credential goes with a request: the
/// header on msgit's own requests (`authorize`), the username and password libgit2 asks for
/// (`basicCredential(for:)`), and which headers survive a redirect (`redirected(_:from:)`). The
/// secret never shows: printed, debug-printed or dumped, a scope names its origin only.
public struct CredentialScope: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The one origin the credential may be sent to.
    public let origin: Origin
    private let username: String
    private let password: String

    /// HTTP Basic with `username` and `password`, for requests to `origin` only.
    public init(origin: Origin, username: String, password: String) {
        self.origin = origin
        self.username = username
        self.password = password
    }

    /// "a credential for" and the origin; never the secret.
    public var description: String { "a credential for \(origin)" }
    /// The same as `description`: the secret does not show in a debugger either.
    public var debugDescription: String { description }
    /// The origin alone, so that `dump` and reflection never reach the secret.
    public var customMirror: Mirror { Mirror(self, children: ["origin": origin]) }

    /// Whether a request to `url` may carry this credential: on its own origin, or on that origin
    /// upgraded from http to https on the same host (port 443).
    public func admits(_ url: URL) -> Bool {
        guard let target = Origin(url) else { return false }
        return target == origin || origin.upgrades(to: target)
    }

    /// Puts the credential on `request` when the request goes to this origin and carries no
    /// credential of its own (an LFS action's own header wins over the hub's).
    public func authorize(_ request: inout URLRequest) {
        guard let url = request.url, admits(url), request.value(forHTTPHeaderField: Self.header) == nil else { return }
        request.setValue("Basic " + Data("\(username):\(password)".utf8).base64EncodedString(),
                         forHTTPHeaderField: Self.header)
    }

    /// The username and password for a server at `url` that asks for credentials (libgit2's
    /// callback), or nil when `url` is on another origin: a redirect must not take them along.
    public func basicCredential(for url: URL) -> (username: String, password: String)? {
        admits(url) ? (username, password) : nil
    }

    // MARK: Headers on the way to another origin

    static let header = "Authorization"

    /// Names (lowercased) of headers that can carry a credential. None of them goes to another
    /// origin than the one its request was made for.
    static let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "x-api-key",
                                                 "private-token", "x-auth-token"]

    /// The request to follow a redirect with: unchanged on the same origin and on an upgrade from
    /// http to https on the same host; without any header that can carry a credential on another
    /// origin; nil (refused) from https to anything else.
    ///
    /// FoundationNetworking would follow a redirect to another host with every header, the
    /// original request's credential included.
    public static func redirected(_ request: URLRequest, from: URL) -> URLRequest? {
        guard let to = request.url else { return nil }
        if from.scheme?.lowercased() == "https" && to.scheme?.lowercased() != "https" { return nil }
        if let source = Origin(from), let target = Origin(to), source == target || source.upgrades(to: target) {
            return request
        }
        var stripped = request
        for name in (request.allHTTPHeaderFields ?? [:]).keys where credentialHeaders.contains(name.lowercased()) {
            stripped.setValue(nil, forHTTPHeaderField: name)
        }
        return stripped
    }
}
