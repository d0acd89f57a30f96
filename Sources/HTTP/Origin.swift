import Foundation

/// The scheme, host and port a credential belongs to.
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    /// The scheme, lowercased ("https", "http").
    public var scheme: String
    /// The host, lowercased.
    public var host: String
    /// The port, the scheme's default (443 or 80) filled in, so that `https://h` and `https://h:443`
    /// are one origin.
    public var port: Int

    /// The origin of these parts, lowercased; a nil port is the scheme's default.
    public init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.port = port ?? (self.scheme == "https" ? 443 : 80)
    }

    /// The origin of `url`, or nil if it has no scheme and host.
    public init?(_ url: URL) {
        guard let scheme = url.scheme, let host = url.host, !host.isEmpty else { return nil }
        self.init(scheme: scheme, host: host, port: url.port)
    }

    /// The origin of the URL in `string`, or nil if it is not a URL with a scheme and a host.
    public init?(_ string: String) {
        guard let url = URL(string: string) else { return nil }
        self.init(url)
    }

    /// "scheme://host:port", the port always written.
    public var description: String { "\(scheme)://\(host):\(port)" }

    /// Whether `other` is this plain http origin upgraded to https on the same host (port 443):
    /// where a credential of this origin may follow a redirect, the reverse never.
    public func upgrades(to other: Origin) -> Bool {
        scheme == "http" && other.scheme == "https" && other.host == host && other.port == 443
    }
}

extension URL {
    /// scheme://host[:port]/path, without userinfo or query, for messages.
    public var redactedForRedirect: String {
        var c = URLComponents(url: self, resolvingAgainstBaseURL: false) ?? URLComponents()
        c.user = nil
        c.password = nil
        c.query = nil
        return c.string ?? "?"
    }
}
