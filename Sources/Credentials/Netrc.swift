import Foundation

/// `~/.netrc`: `machine <host> login <user> password <token>` (and `default`), as curl reads it.
public enum Netrc {
    /// The login and password of one `machine` (or `default`) entry.
    public struct Entry: Equatable, Sendable {
        /// The `login`; nil when the entry has none (the token is then sent as `oauth2`'s).
        public var login: String?
        /// The `password`: the token.
        public var password: String
    }

    /// The first entry of `text` (a netrc file's content) for `host`, compared without case, else the
    /// `default` entry; nil when neither has a password. Ports are not compared, as curl does not;
    /// `macdef` macros and `#` comments are skipped.
    public static func lookup(host: String, in text: String) -> Entry? {
        var tokens: [String] = []
        var skippingMacro = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if skippingMacro {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { skippingMacro = false }
                continue
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.first == "macdef" {
                skippingMacro = true
                continue
            }
            tokens += words.prefix { !$0.hasPrefix("#") }
        }
        var entries: [(machine: String?, entry: Entry)] = []
        var machine: String??
        var login: String?
        var password: String?
        func flush() {
            if let machine, let password { entries.append((machine, Entry(login: login, password: password))) }
            login = nil
            password = nil
        }
        var i = 0
        while i < tokens.count {
            switch tokens[i] {
            case "machine":
                flush()
                machine = i + 1 < tokens.count ? .some(tokens[i + 1].lowercased()) : nil
                i += 2
            case "default":
                flush()
                machine = .some(nil)
                i += 1
            case "login":
                login = i + 1 < tokens.count ? tokens[i + 1] : nil
                i += 2
            case "password":
                password = i + 1 < tokens.count ? tokens[i + 1] : nil
                i += 2
            case "account":
                i += 2
            default:
                i += 1
            }
        }
        flush()
        return entries.first { $0.machine == host.lowercased() }?.entry ?? entries.first { $0.machine == nil }?.entry
    }
}
