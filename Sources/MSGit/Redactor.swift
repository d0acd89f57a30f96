import Foundation
import Synchronization

/// Removes secrets from text before it is shown, logged or stored.
///
/// Three kinds of secret are removed: every token msgit was handed in this process (registered by
/// whoever loads it), the password part of URL userinfo, and the signature-bearing query parameters
/// of presigned storage URLs and Authorization header values.
public final class Redactor: Sendable {
    public static let shared = Redactor()

    private let secrets = Mutex<Set<String>>([])

    public init() {}

    /// Registers a secret to be masked wherever it appears. Very short strings are ignored, since
    /// masking them would mangle ordinary text and they are not credible tokens.
    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        secrets.withLock { _ = $0.insert(secret) }
    }

    public func redact(_ text: String) -> String {
        var result = text
        // Longest first, so a secret containing another is masked whole.
        for secret in secrets.withLock({ $0 }).sorted(by: { $0.count > $1.count }) {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        for (pattern, template) in Self.patterns {
            result = pattern.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: template)
        }
        return result
    }

    /// Query parameters that carry a signature or a bearer secret in presigned URLs (S3, Azure,
    /// GCS, OSS and generic ones), plus userinfo and Authorization values.
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
