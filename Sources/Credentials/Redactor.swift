import Foundation
import Synchronization

/// Removes secrets from text before it is shown, logged or stored.
///
/// Three kinds of secret are removed: the tokens of the operations running now (each operation
/// holds its credentials' tokens from when it resolves them until it ends, see `SecretScope`),
/// the password part of URL userinfo, and the signature-bearing query parameters of presigned
/// storage URLs and credential header values.
///
/// A token is masked in every form a server or a log may give it back in (`forms(of:)`): as it
/// is, percent-encoded (either case of hex digits), and base64-encoded in either alphabet at each
/// of the three alignments it can have inside a longer encoded text, which covers
/// `base64("oauth2:" + token)` in an echoed `Authorization` header whatever the username.
///
/// Held tokens are counted, not kept: a service that runs an operation per request with a new
/// token each time holds only the tokens of the operations in flight, so memory and the work per
/// redaction do not grow with the number of operations ever run. `register` keeps a secret for
/// the life of the process (for a program that has a few, such as the command line).
public final class Redactor: Sendable {
    /// The redactor the library masks every message, error and log line with, for the whole
    /// process; each operation holds its tokens in it while it runs (`String.redacted` uses it).
    public static let shared = Redactor()

    private struct State {
        /// Secret -> how many holders it has (`Int.max` for a secret registered for good).
        var holders: [String: Int] = [:]
        /// Every form of every secret, longest first, so a secret containing another is masked
        /// whole. Rebuilt when the set changes, not on every redaction.
        var ordered: [String] = []

        mutating func reorder() {
            ordered = Set(holders.keys.flatMap(Redactor.forms(of:))).sorted { $0.count > $1.count }
        }
    }

    private let state = Mutex(State())

    /// A redactor of its own, which masks only what is registered with it (and userinfo and
    /// signatures). The library uses `shared`.
    public init() {}

    /// Registers a secret to be masked wherever it appears, for the life of this redactor. Very
    /// short strings are ignored, since masking them would mangle ordinary text and they are not
    /// credible tokens.
    public func register(_ secret: String) {
        guard Self.isMaskable(secret) else { return }
        state.withLock { s in
            let isNew = s.holders[secret] == nil
            s.holders[secret] = Int.max
            if isNew { s.reorder() }
        }
    }

    /// Masks `secret` until a matching `release`. Returns false (and holds nothing) for strings too
    /// short to mask.
    package func hold(_ secret: String) -> Bool {
        guard Self.isMaskable(secret) else { return false }
        state.withLock { s in
            let count = s.holders[secret, default: 0]
            s.holders[secret] = count == Int.max ? count : count + 1
            if count == 0 { s.reorder() }
        }
        return true
    }

    /// Ends one `hold` of `secret`; the secret stops being masked when its last holder lets go.
    package func release(_ secret: String) {
        state.withLock { s in
            guard let count = s.holders[secret], count != Int.max else { return }
            if count > 1 {
                s.holders[secret] = count - 1
            } else {
                s.holders[secret] = nil
                s.reorder()
            }
        }
    }

    /// How many distinct secrets are masked now.
    package var secretCount: Int { state.withLock { $0.holders.count } }

    /// `text` with every held or registered secret, in every form, replaced by `***`, userinfo
    /// passwords removed from URLs, and signature parameters of presigned URLs and credential header
    /// values masked. Safe to call from any thread. Redacting what was redacted changes nothing.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in state.withLock({ $0.ordered }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        for (pattern, template) in Self.patterns {
            result = pattern.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: template)
        }
        return result
    }

    private static func isMaskable(_ secret: String) -> Bool { secret.count >= 4 }

    /// The forms `secret` may come back in: itself; percent-encoded (everything but RFC 3986's
    /// unreserved characters, hex digits in either case); and base64 in the standard and URL-safe
    /// alphabets, at each of the three alignments the secret can take inside a longer encoded
    /// text (`base64(user + ":" + secret)`, say), as the characters determined by the secret's
    /// bytes alone. Encoded forms shorter than 8 characters are left out: they would mask
    /// ordinary text.
    package static func forms(of secret: String) -> [String] {
        var forms: Set<String> = [secret]
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: unreserved), encoded != secret {
            forms.insert(encoded)
            forms.insert(lowercasingPercentHex(encoded))
        }
        let bytes = Array(secret.utf8)
        for alignment in 0..<3 {
            let encoded = Array((Data(repeating: 0, count: alignment) + Data(bytes)).base64EncodedString().utf8)
            // Character i carries bits 6i..<6i+6; the secret's bits are 8a..<8(a+n).
            let first = (8 * alignment + 5) / 6
            let end = (8 * alignment + 8 * bytes.count) / 6
            guard end - first >= 8 else { continue }
            let core = String(decoding: encoded[first..<end], as: UTF8.self)
            forms.insert(core)
            forms.insert(core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
        }
        return Array(forms)
    }

    private static func lowercasingPercentHex(_ text: String) -> String {
        var out = ""
        var pending = 0
        for character in text {
            if character == "%" {
                pending = 2
                out.append(character)
            } else if pending > 0 {
                pending -= 1
                out.append(Character(character.lowercased()))
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// Query parameters that carry a signature or a bearer secret in presigned URLs (S3, Azure,
    /// GCS, OSS and generic ones), plus userinfo and credential header values.
    private static let patterns: [(NSRegularExpression, String)] = {
        let query = "x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
            + "|x-oss-signature|signature|sig|se|token|access_token|jwt|auth|key|credential|password|secret"
        let specs: [(String, String)] = [
            // scheme://user:password@ and scheme://token@ -> scheme://***@ (a lone username may be a token)
            (#"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]+@"#, "$1***@"),
            (#"(?i)([?&](?:"# + query + #"))=[^&\s"'#]*"#, "$1=***"),
            // `*` belongs to the value: a value a secret was masked inside of is masked whole, and a
            // second redaction of a line leaves it as it is (the scheme is not taken for the value).
            (#"(?i)(authorization\s*[:=]\s*"?(?:basic|bearer|token|remoteauth)?\s*)[A-Za-z0-9+/=._~\-*]+"#, "$1***"),
        ]
        return specs.map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
    }()
}

extension String {
    /// This string with every known secret masked (see `Redactor`).
    public var redacted: String { Redactor.shared.redact(self) }
}
