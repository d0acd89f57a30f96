import Foundation

/// A URL normalised as git's `urlmatch.c` normalises it, with the offsets of its parts, to match
/// the URLs in configuration keys (`credential.<url>.helper`, `http.<url>.*`) as git does.
///
/// Normalising lowercases the scheme and host, decodes `%XX` escapes that need none and encodes
/// characters that must be, writes escapes in upper case, drops leading zeros of the port and
/// the scheme's default port (80 for http, 443 for https), adds a `/` for an empty path and
/// resolves `.` and `..` segments. A pattern may use `*` for a whole label of the host.
package struct GitURLMatch: Equatable {
    /// The normalised URL.
    package let url: [UInt8]
    package let schemeLength: Int
    /// The user name's range, when the URL has a `user@` part (possibly empty).
    package let user: Range<Int>?
    package let host: Range<Int>
    package let port: Range<Int>
    package let path: Range<Int>

    package var string: String { String(decoding: url, as: UTF8.self) }

    private static func set(_ text: String) -> Set<UInt8> { Set(text.utf8) }
    private static let alphaDigit = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    private static let schemeChars = alphaDigit.union(set("+.-"))
    private static let hostChars = alphaDigit.union(set(".-_[:]"))
    private static let unsafeChars = set(" <>\"%{}|\\^`")
    private static let reserved = set(":/?#[]@!$&'()*+,;=")

    /// `url` normalised (git's `url_normalize`), or nil where git finds it invalid: no scheme or
    /// `://`, no host (except for `file:`), a bad port or `%` escape, a `..` above the root.
    /// `allowGlobs` admits `*` in the host, as in configuration keys (`url_normalize_pattern`).
    package init?(_ text: String, allowGlobs: Bool = false) {
        let input = Array(text.utf8)
        var at = 0
        func peek(_ offset: Int = 0) -> UInt8? { at + offset < input.count ? input[at + offset] : nil }

        // Scheme: a letter, then scheme characters, then "://"; lowercased.
        var spanned = input.prefix { Self.schemeChars.contains($0) }.count
        guard spanned > 0, GitConfigParser.isAlpha(input[0]), spanned + 3 <= input.count,
              input[spanned] == UInt8(ascii: ":"), input[spanned + 1] == UInt8(ascii: "/"),
              input[spanned + 2] == UInt8(ascii: "/") else { return nil }
        var norm: [UInt8] = input[0..<(spanned + 3)].map(GitConfigParser.lower)
        let schemeLength = spanned
        at = spanned + 3

        // The end of the authority: the first of "/?#".
        func endOfAuthority(from start: Int) -> Int {
            var i = start
            while i < input.count, !Self.set("/?#").contains(input[i]) { i += 1 }
            return i
        }
        let slash = endOfAuthority(from: at)

        // user[:password]@
        var user: Range<Int>?
        if let atSign = input[at...].firstIndex(of: UInt8(ascii: "@")), atSign < slash {
            let userStart = norm.count
            if atSign > at {
                guard Self.appendNormalizedEscapes(&norm, input[at..<atSign], extra: [], keepEscaped: Self.reserved) else {
                    return nil
                }
            }
            let userEnd = norm[userStart...].firstIndex(of: UInt8(ascii: ":")) ?? norm.count
            user = userStart..<userEnd
            norm.append(UInt8(ascii: "@"))
            at = atSign + 1
        }

        // Host (no escapes), lowercased.
        let hasHost: Bool
        if at >= input.count || Self.set(":/?#").contains(input[at]) {
            guard norm.starts(with: Array("file:".utf8)) else { return nil }
            hasHost = false
        } else {
            hasHost = true
        }
        let hostStart = norm.count
        var colon = slash - 1
        while colon > at, input[colon] != UInt8(ascii: ":"), input[colon] != UInt8(ascii: "]") { colon -= 1 }
        if colon < at || colon >= input.count || input[colon] != UInt8(ascii: ":") {
            colon = slash
        } else if !hasHost, colon < slash, colon + 1 != slash {
            return nil  // a file: URL may not have a port
        }
        let allowed = allowGlobs ? Self.hostChars.union([UInt8(ascii: "*")]) : Self.hostChars
        spanned = input[at...].prefix { allowed.contains($0) }.count
        guard spanned >= colon - at else { return nil }
        while at < colon {
            norm.append(GitConfigParser.lower(input[at]))
            at += 1
        }

        // Port: leading zeros dropped, the default port dropped, else 1...65535.
        var port = norm.count..<norm.count
        if colon < slash {
            at += 1
            while at < slash, input[at] == UInt8(ascii: "0") { at += 1 }
            if at == slash, input[at - 1] == UInt8(ascii: "0") { at -= 1 }
            let digits = Array(input[at..<slash])
            let isHTTP = norm.starts(with: Array("http:".utf8)), isHTTPS = norm.starts(with: Array("https:".utf8))
            if digits.isEmpty || (isHTTP && digits == Array("80".utf8)) || (isHTTPS && digits == Array("443".utf8)) {
                // the default port
            } else {
                guard digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
                let number = digits.count <= 5 ? Int(String(decoding: digits, as: UTF8.self)) ?? 0 : 0
                guard (1...65535).contains(number) else { return nil }
                norm.append(UInt8(ascii: ":"))
                port = norm.count..<(norm.count + digits.count)
                norm += digits
            }
            at = slash
        }
        let host = hasHost ? hostStart..<(port.isEmpty ? norm.count : port.lowerBound - 1) : hostStart..<hostStart

        // Path: "/" added, escapes normalised, "." and ".." segments resolved.
        let pathStart = norm.count
        norm.append(UInt8(ascii: "/"))
        if peek() == UInt8(ascii: "/") { at += 1 }
        while true {
            let segmentStart = norm.count
            var next = at
            while next < input.count, !Self.set("/?#").contains(input[next]) { next += 1 }
            guard Self.appendNormalizedEscapes(&norm, input[at..<next], extra: [], keepEscaped: Self.reserved) else {
                return nil
            }
            var skipSlash = false
            let segment = Array(norm[segmentStart...])
            if segment == [UInt8(ascii: ".")] {
                if segmentStart == pathStart + 1 {
                    norm.removeLast(1)
                    skipSlash = true
                } else {
                    norm.removeLast(2)
                }
            } else if segment == Array("..".utf8) {
                var previous = norm.count - 3
                guard previous != pathStart, previous > pathStart else { return nil }
                previous -= 1
                while norm[previous] != UInt8(ascii: "/") { previous -= 1 }
                if previous == pathStart {
                    norm.removeSubrange((previous + 1)...)
                    skipSlash = true
                } else {
                    norm.removeSubrange(previous...)
                }
            }
            at = next
            guard peek() == UInt8(ascii: "/") else { break }
            at += 1
            if !skipSlash { norm.append(UInt8(ascii: "/")) }
        }
        let path = pathStart..<norm.count

        // The query and fragment, escapes normalised only.
        if at < input.count {
            guard Self.appendNormalizedEscapes(&norm, input[at...], extra: [], keepEscaped: Self.reserved) else { return nil }
        }
        self.url = norm
        self.schemeLength = schemeLength
        self.user = user
        self.host = host
        self.port = port
        self.path = path
    }

    /// git's `append_normalized_escapes`: decodes what needs no escape, encodes what must be
    /// (controls, non-ASCII, `unsafeChars`, `extra`), keeps `keepEscaped` escaped when it was,
    /// and writes every escape in upper case. False for a `%` not followed by two hex digits.
    private static func appendNormalizedEscapes(_ out: inout [UInt8], _ from: ArraySlice<UInt8>, extra: Set<UInt8>,
                                                keepEscaped: Set<UInt8>) -> Bool {
        var i = from.startIndex
        while i < from.endIndex {
            var c = from[i]
            i += 1
            var wasEscaped = false
            if c == UInt8(ascii: "%") {
                guard i + 2 <= from.endIndex, let value = hexValue(from[i], from[i + 1]) else {
                    return false
                }
                c = value
                i += 2
                wasEscaped = true
            }
            if c <= 0x1F || c >= 0x7F || unsafeChars.contains(c) || extra.contains(c) || (wasEscaped && keepEscaped.contains(c)) {
                out += percentEscape(c)
            } else {
                out.append(c)
            }
        }
        return true
    }

    /// One of the characters git always escapes in URLs (besides controls and non-ASCII).
    package static func isUnsafe(_ c: UInt8) -> Bool { unsafeChars.contains(c) }

    /// `%XX`, upper case.
    package static func percentEscape(_ c: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "%"), digits[Int(c >> 4)], digits[Int(c & 0xF)]]
    }

    package static func hexValue(_ high: UInt8, _ low: UInt8) -> UInt8? {
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        guard let h = digit(high), let l = digit(low) else { return nil }
        return h << 4 | l
    }

    /// Whether `pattern` (a normalised configuration URL, possibly with `*` host labels) applies
    /// to this URL, as git's `match_urls`: the same scheme; the pattern's user, if it names one,
    /// equal to this URL's; every host label equal or `*`, with as many labels; the same port;
    /// and the pattern's path a prefix of this path ending on a `/` boundary.
    package func isMatched(by pattern: GitURLMatch) -> Bool {
        guard pattern.schemeLength == schemeLength, url[..<schemeLength] == pattern.url[..<schemeLength] else { return false }
        if let patternUser = pattern.user {
            guard let user, url[user] == pattern.url[patternUser] else { return false }
        }
        guard Self.hostMatches(Array(url[host]), pattern: Array(pattern.url[pattern.host])) else { return false }
        guard url[port] == pattern.url[pattern.port] else { return false }
        return Self.pathPrefixLength(Array(url[path.lowerBound...]), prefix: Array(pattern.url[pattern.path.lowerBound...])) > 0
    }

    /// git's `match_host`: label by label, `*` matching any one label.
    private static func hostMatches(_ host: [UInt8], pattern: [UInt8]) -> Bool {
        var u = 0, p = 0
        let dot = UInt8(ascii: ".")
        while u < host.count && p < pattern.count {
            let uNext = host[u...].firstIndex(of: dot) ?? host.count
            let pNext = pattern[p...].firstIndex(of: dot) ?? pattern.count
            let wildcard = pNext == p + 1 && pattern[p] == UInt8(ascii: "*")
            guard wildcard || host[u..<uNext] == pattern[p..<pNext] else { return false }
            u = uNext < host.count ? uNext + 1 : uNext
            p = pNext < pattern.count ? pNext + 1 : pNext
        }
        return u == host.count && p == pattern.count
    }

    /// git's `url_match_prefix`: the length of the match, including an implicit final `/`, or 0.
    private static func pathPrefixLength(_ url: [UInt8], prefix: [UInt8]) -> Int {
        var prefix = prefix[...]
        if prefix.isEmpty || prefix.elementsEqual([UInt8(ascii: "/")]) {
            return url.isEmpty || url.first == UInt8(ascii: "/") ? 1 : 0
        }
        if prefix.last == UInt8(ascii: "/") { prefix = prefix.dropLast() }
        guard url.starts(with: prefix) else { return 0 }
        return url.count == prefix.count || url[prefix.count] == UInt8(ascii: "/") ? prefix.count + 1 : 0
    }
}
