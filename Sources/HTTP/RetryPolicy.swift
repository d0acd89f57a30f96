import Foundation
import Logging

/// Retries for HTTP exchanges: 429 and 5xx answers and transport errors are tried again, waiting as
/// `Retry-After` says (seconds or an HTTP date) or with exponential backoff. Timeouts, cancellation
/// and refused redirects are not retried.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; 5 by default.
    public var maxAttempts = 5
    /// The first backoff, doubled at each attempt; 250 ms by default.
    public var baseDelay: Duration = .milliseconds(250)
    /// The longest wait for a 429 or a 5xx, whatever `Retry-After` asks; 30 s by default.
    public var maxDelay: Duration = .seconds(30)

    /// 5 attempts, backoff from 250 ms, waits of at most 30 s.
    public init() {}

    /// Runs `body` until it answers something other than 429 or a retryable 5xx, or fails other
    /// than in transport, `maxAttempts` times at most; `what` names the exchange in log lines.
    /// Failures come out as `HTTPClient.Failure` (a cancellation while waiting as `.cancelled`),
    /// for the caller to put in its own words.
    public func run(_ what: String, logger: Logger, _ body: () async throws -> HTTPClient.Response) async throws
        -> HTTPClient.Response
    {
        var attempt = 1
        while true {
            do {
                let response = try await body()
                guard StatusMeaning(response.status) == .retryable, attempt < maxAttempts else { return response }
                let wait = min(Self.retryAfter(response.header("Retry-After")) ?? backoff(attempt), maxDelay)
                logger.info("\(what): HTTP \(response.status), retrying in \(wait)")
                try await Task.sleep(for: wait)
            } catch HTTPClient.Failure.transport(let message) where attempt < maxAttempts {
                logger.info("\(what) failed (\(message)), retrying")
                do { try await Task.sleep(for: backoff(attempt)) } catch { throw HTTPClient.Failure.cancelled }
            } catch is CancellationError {
                throw HTTPClient.Failure.cancelled
            }
            attempt += 1
        }
    }

    func backoff(_ attempt: Int) -> Duration {
        baseDelay * (1 << min(attempt - 1, 10))
    }

    /// `Retry-After` in seconds or as an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSinceNow * 1000)))
    }
}
