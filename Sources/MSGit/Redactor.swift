import Foundation
import Synchronization

/// Removes secrets from text before it is shown, logged or stored.
///
/// Three kinds of secret are removed: the tokens of the operations running now (each operation
/// holds its credentials' tokens from when it resolves them until it ends, see `SecretScope`),
/// the password part of URL userinfo, and the signature-bearing query parameters of presigned
/// storage URLs and credential header values.
///
/// Held tokens are counted, not kept: a service that runs an operation per request with a new
/// token each time holds only the tokens of the operations in flight, so memory and the work per
/// redaction do not grow with the number of operations ever run. `register` keeps a secret for
/// the life of the process (for a program that has a few, such as the command line).
public final class Redactor: Sendable {
    public static let shared = Redactor()

    private struct State {
        /// Secret -> how many holders it has (`Int.max` for a secret registered for good).
        var holders: [String: Int] = [:]
        /// The secrets, longest first, so a secret containing another is masked whole. Rebuilt when
        /// the set changes, not on every redaction.
        var ordered: [String] = []

        mutating func reorder() {
            ordered = holders.keys.sorted { $0.count > $1.count }
        }
    }

    private let state = Mutex(State())

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
    func hold(_ secret: String) -> Bool {
        guard Self.isMaskable(secret) else { return false }
        state.withLock { s in
            let count = s.holders[secret, default: 0]
            s.holders[secret] = count == Int.max ? count : count + 1
            if count == 0 { s.reorder() }
        }
        return true
    }

    /// Ends one `hold` of `secret`; the secret stops being masked when its last holder lets go.
    func release(_ secret: String) {
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
    var secretCount: Int { state.withLock { $0.holders.count } }

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

    /// Query parameters that carry a signature or a bearer secret in presigned URLs (S3, Azure,
    /// GCS, OSS and generic ones), plus userinfo and credential header values.
    private static let patterns: [(NSRegularExpression, String)] = {
        let query = "x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
            + "|x-oss-signature|signature|sig|se|token|access_token|jwt|auth|key|credential|password|secret"
        let specs: [(String, String)] = [
            // scheme://user:password@ and scheme://token@ -> scheme://***@ (a lone username may be a token)
            (#"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]+@"#, "$1***@"),
            (#"(?i)([?&](?:"# + query + #"))=[^&\s"'#]*"#, "$1=***"),
            (#"(?i)(authorization\s*[:=]\s*"?(?:basic|bearer|token|remoteauth)?\s*)[A-Za-z0-9+/=._~\-]+"#, "$1***"),
        ]
        return specs.map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
    }()
}

extension String {
    /// This string with every known secret masked (see `Redactor`).
    public var redacted: String { Redactor.shared.redact(self) }
}
