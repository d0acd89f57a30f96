import Foundation

/// git's credential store file format: one URL per line, `scheme://user:password@host[:port][/path]`,
/// user and password percent-encoded. Matched as git-credential-store does with
/// `credential.useHttpPath` unset: the scheme and host (with port, as written) must be equal, a
/// username in the repository URL must be equal, paths are not compared.
public enum GitCredentialStore {
    public struct Entry: Equatable, Sendable {
        public var scheme: String
        public var host: String
        public var username: String?
        public var password: String
    }

    public static func parse(_ line: Substring) -> Entry? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, let components = URLComponents(string: text), let scheme = components.scheme,
              let host = components.host, let password = components.percentEncodedPassword else { return nil }
        let hostPort = components.port.map { "\(host.lowercased()):\($0)" } ?? host.lowercased()
        return Entry(scheme: scheme.lowercased(), host: hostPort,
                     username: components.percentEncodedUser?.removingPercentEncoding,
                     password: password.removingPercentEncoding ?? password)
    }

    public static func lookup(_ url: RemoteURL, in text: String) -> Entry? {
        let host = url.port.map { "\(url.host):\($0)" } ?? url.host
        for line in text.split(whereSeparator: \.isNewline) {
            guard let entry = parse(line), entry.scheme == url.scheme, entry.host == host else { continue }
            if let wanted = url.username, entry.username != wanted { continue }
            return entry
        }
        return nil
    }

    /// `text` with the entry for (scheme, host, username) replaced by, or extended with, `entry`.
    public static func store(_ entry: Entry, in text: String) -> String {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            guard let old = parse(Substring(line)) else { return true }
            return !(old.scheme == entry.scheme && old.host == entry.host && old.username == entry.username)
        }
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#[]"))
        let user = (entry.username ?? Credential.defaultUsername).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let password = entry.password.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        lines.append("\(entry.scheme)://\(user):\(password)@\(entry.host)")
        return lines.joined(separator: "\n") + "\n"
    }
}
