import Foundation

/// What git says to a credential helper and reads back from it: the `key=value` lines of git's
/// credential protocol (gitcredentials(7), git's `credential.c`), as git's `struct credential`.
///
/// msgit announces no capabilities (`capability[]`), so helpers answer with a username and a
/// password, never with `authtype`/`credential` pairs or `state[]`.
package struct CredentialDescription: Equatable, Sendable {
    package var protocolName: String?
    package var host: String?
    package var path: String?
    package var username: String?
    package var password: String?
    package var oauthRefreshToken: String?
    /// `password_expiry_utc`: seconds since the epoch; nil when the password does not expire.
    package var passwordExpiry: Int64?
    /// `quit=1`: the helper asks that no other helper be asked.
    package var quit = false

    /// Why git would refuse to send a description: a value with a line break would let it say
    /// more than it means (git dies: "credential value for host contains newline").
    package struct UnsafeValue: Error, Equatable {
        var key: String
    }

    /// The lines git writes to a helper (`credential_write`, without capabilities), in git's
    /// order. Git ends them with the end of input, not a blank line, and so does msgit.
    package func encoded(protectCarriageReturn: Bool = true) throws(UnsafeValue) -> [UInt8] {
        var out: [UInt8] = []
        func item(_ key: String, _ value: String?) throws(UnsafeValue) {
            guard let value else { return }
            if value.contains("\n") || (protectCarriageReturn && value.contains("\r")) { throw UnsafeValue(key: key) }
            out += Array("\(key)=\(value)\n".utf8)
        }
        try item("protocol", protocolName)
        try item("host", host)
        try item("path", path)
        try item("username", username)
        try item("password", password)
        try item("oauth_refresh_token", oauthRefreshToken)
        try item("password_expiry_utc", passwordExpiry.map(String.init))
        return out
    }

    /// Why a helper's answer was not taken.
    package enum AnswerError: Error, Equatable {
        /// A line without `=`, as git's `credential_read` refuses ("invalid credential line").
        case invalidLine(number: Int)
    }

    /// A helper's answer read over this description, as git's `credential_read`: lines up to the
    /// first empty one, `\r\n` taken as a line end. `username`, `password`,
    /// `oauth_refresh_token`, `password_expiry_utc` (0 or out of range: no expiry) and `quit` are
    /// taken; lines git does not know are ignored, as git ignores them. `protocol`, `host`,
    /// `path` and `url` lines are ignored too: the answer is for the URL msgit asked about, which
    /// is where the credential will go, whatever the helper says.
    package func reading(answer output: [UInt8]) throws(AnswerError) -> CredentialDescription {
        var result = self
        var number = 0
        for rawLine in output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { break }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { throw .invalidLine(number: number) }
            let key = String(decoding: line[..<equals], as: UTF8.self)
            let value = String(decoding: line[(equals + 1)...], as: UTF8.self)
            switch key {
            case "username": result.username = value
            case "password": result.password = value
            case "oauth_refresh_token": result.oauthRefreshToken = value
            case "password_expiry_utc":
                // git's parse_timestamp: leading digits, base 10; 0 or too large means "never".
                let digits = value.drop { $0 == " " || $0 == "\t" }.prefix { $0.isASCII && $0.isNumber }
                let expiry = Int64(digits) ?? 0
                result.passwordExpiry = expiry == 0 ? nil : expiry
            case "quit": result.quit = (try? GitConfig.parseBool(value)) ?? true
            default: break
            }
        }
        return result
    }

    /// Whether the password has expired at `now` (seconds since the epoch), as git's
    /// `password_expiry_utc < time(NULL)`.
    package func isExpired(now: Int64) -> Bool {
        guard let passwordExpiry else { return false }
        return passwordExpiry < now
    }

    /// git's `credential_match`: every field `self` has, `other` has and equals.
    package func isMatched(by other: CredentialDescription, comparingPassword: Bool) -> Bool {
        func check(_ want: String?, _ have: String?) -> Bool { want == nil || (have != nil && want == have) }
        return check(protocolName, other.protocolName) && check(host, other.host) && check(path, other.path)
            && check(username, other.username) && (!comparingPassword || check(password, other.password))
    }

    /// A URL split as git's `credential_from_url_gently` splits it: `protocol://[user[:password]@]host[/path]`,
    /// user, password, host and path percent-decoded, slashes trimmed from both ends of the path.
    /// With `partial`, parts may be missing (`example.com`, `https://`, `/path`), as in the keys of
    /// `credential.<url>.*`; otherwise nil without a `protocol://`. nil when a part holds a newline.
    package init?(url text: String, partial: Bool) {
        let url = Array(text.utf8)
        let separator = Array("://".utf8)
        var protocolEnd: Int?
        if url.count >= 3 {
            for i in 0...(url.count - 3) where url[i..<(i + 3)].elementsEqual(separator) {
                protocolEnd = i
                break
            }
        }
        if !partial, protocolEnd == nil || protocolEnd == 0 { return nil }
        let start = protocolEnd.map { $0 + 3 } ?? 0
        let rest = url[start...]
        let slash = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? url.count
        let at = rest.firstIndex(of: UInt8(ascii: "@"))
        let colon = rest.firstIndex(of: UInt8(ascii: ":"))
        var hostStart = start
        if let at, at < slash {
            if let colon, colon < at {
                username = Self.decode(url[start..<colon])
                password = Self.decode(url[(colon + 1)..<at])
            } else {
                username = Self.decode(url[start..<at])
            }
            hostStart = at + 1
        }
        if let protocolEnd, protocolEnd > 0 { protocolName = String(decoding: url[..<protocolEnd], as: UTF8.self) }
        if !partial || slash > hostStart { host = Self.decode(url[hostStart..<slash]) }
        var pathStart = slash
        while pathStart < url.count, url[pathStart] == UInt8(ascii: "/") { pathStart += 1 }
        if pathStart < url.count {
            var decoded = Array(Self.decode(url[pathStart...]).utf8)
            while decoded.count > 1, decoded.last == UInt8(ascii: "/") { decoded.removeLast() }
            path = String(decoding: decoded, as: UTF8.self)
        }
        for part in [username, password, protocolName, host, path] where part?.contains("\n") == true { return nil }
    }

    package init(protocolName: String? = nil, host: String? = nil, path: String? = nil, username: String? = nil,
         password: String? = nil) {
        self.protocolName = protocolName
        self.host = host
        self.path = path
        self.username = username
        self.password = password
    }

    /// git's `url_decode`: `%XX` decoded except `%00`; a `%` without two hex digits kept.
    package static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let value = GitURLMatch.hexValue(bytes[i + 1], bytes[i + 2]),
               value > 0 {
                out.append(value)
                i += 3
                continue
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// git's `credential_format`: the URL git normalises to match `credential.<url>.*` keys.
    package var formattedURL: String {
        guard let protocolName else { return "" }
        var out = Array("\(protocolName)://".utf8)
        if let username, !username.isEmpty {
            out += Self.percentEncode(username) { $0 == UInt8(ascii: "/") || GitURLMatch.isUnsafe($0) }
            out.append(UInt8(ascii: "@"))
        }
        if let host {
            out += Self.percentEncode(host) { c in
                !GitConfigParser.isAlnum(c) && !Array("-.:[]".utf8).contains(c)
            }
        }
        if let path {
            out.append(UInt8(ascii: "/"))
            out += Self.percentEncode(path, GitURLMatch.isUnsafe)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// git's `strbuf_add_percentencode`: controls and non-ASCII always, and what `encodes` says.
    private static func percentEncode(_ text: String, _ encodes: (UInt8) -> Bool) -> [UInt8] {
        var out: [UInt8] = []
        for c in text.utf8 {
            if c <= 0x1F || c >= 0x7F || encodes(c) {
                out += GitURLMatch.percentEscape(c)
            } else {
                out.append(c)
            }
        }
        return out
    }
}
