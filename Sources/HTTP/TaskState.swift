import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

extension HTTPClient {
    /// What one task collected, and the continuation waiting for it. Shared between the delegate
    /// queue, the watchdog and the caller, hence the lock.
    final class TaskState: Sendable {
        enum Reason: Sendable {
            case timeout(Int), cancelled, unauthorized(HTTPURLResponse), insecureRedirect(String, String), tooLarge
            /// Fewer than `HTTPClient.lowSpeedLimit` bytes a second over a window of this many seconds.
            case tooSlow(Int)
            /// No whole response headers within this many seconds of the start.
            case noHeaders(Int)
        }
        private struct Inner {
            var continuation: CheckedContinuation<Response, any Error>?
            var response: HTTPURLResponse?
            var body = Data()
            /// Set once, by whichever comes first: completion, cancellation, the watchdog.
            var result: Result<Response, any Error>?
            var reason: Reason?
            var tooLarge = false
            var started: ContinuousClock.Instant?
            /// From the task's start to its answer's headers.
            var wait: Duration?
            /// Body bytes the delegate got. FoundationNetworking never updates a data task's
            /// `countOfBytesReceived` (it stays 0), so the watchdog reads this instead.
            var received: Int64 = 0
        }
        private let inner = Mutex(Inner())
        let limit: Int

        init(limit: Int) {
            self.limit = limit
        }

        var isFinished: Bool { inner.withLock { $0.result != nil } }

        /// Stores the continuation, or resumes it at once when the state already finished (and
        /// returns false: the task must not be started).
        func setContinuation(_ c: CheckedContinuation<Response, any Error>) -> Bool {
            let done: Result<Response, any Error>? = inner.withLock { s in
                if s.result == nil { s.continuation = c }
                return s.result
            }
            if let done {
                c.resume(with: done)
                return false
            }
            return true
        }

        func cancelReason(_ reason: Reason) {
            inner.withLock { if $0.reason == nil { $0.reason = reason } }
        }

        /// Cancels `task` and completes the waiting call now: FoundationNetworking does not always
        /// call a cancelled download task's completion handler, and the caller must not wait for it.
        func cancel(_ task: URLSessionTask, reason: Reason) {
            cancelReason(reason)
            task.cancel()
            finish(error: Failure.cancelled)
        }

        /// The task is about to be resumed: its wait for an answer starts now.
        func markStarted() {
            inner.withLock { $0.started = .now }
        }

        /// Counts `n` body bytes delivered to the delegate.
        func count(_ n: Int) {
            inner.withLock { $0.received += Int64(n) }
        }

        var receivedBytes: Int64 { inner.withLock { $0.received } }

        /// Whether the answer's headers have come.
        var hasResponse: Bool { inner.withLock { $0.response != nil } }

        func received(_ response: URLResponse) {
            let now = ContinuousClock.now
            inner.withLock { s in
                s.response = response as? HTTPURLResponse
                if s.wait == nil, let started = s.started { s.wait = now - started }
            }
        }

        /// How long the answer's headers took, once they came.
        var wait: Duration? { inner.withLock { $0.wait } }

        /// False when the body passed the limit (the task is then cancelled).
        func append(_ data: Data) -> Bool {
            inner.withLock { s in
                guard s.body.count + data.count <= limit else {
                    s.tooLarge = true
                    return false
                }
                s.body.append(data)
                return true
            }
        }

        func finish(response: URLResponse? = nil, error: (any Error)?) {
            let now = ContinuousClock.now
            let (continuation, result): (CheckedContinuation<Response, any Error>?, Result<Response, any Error>?) =
                inner.withLock { s in
                    guard s.result == nil else { return (nil, nil) }
                    if let response = response as? HTTPURLResponse { s.response = response }
                    let outcome = Self.outcome(s, error: error, elapsed: s.started.map { now - $0 })
                    s.result = outcome
                    let c = s.continuation
                    s.continuation = nil
                    return (c, outcome)
                }
            if let continuation, let result { continuation.resume(with: result) }
        }

        private static func outcome(_ s: Inner, error: (any Error)?, elapsed: Duration?) -> Result<Response, any Error> {
            func wrap(_ http: HTTPURLResponse, _ body: Data) -> Response {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
                return Response(status: http.statusCode, headers: headers, body: body, url: http.url, wait: s.wait,
                                elapsed: elapsed)
            }
            switch s.reason {
            case .timeout(let seconds): return .failure(Failure.timeout(seconds: seconds))
            case .cancelled: return .failure(Failure.cancelled)
            case .unauthorized(let http): return .success(wrap(http, Data()))
            case .insecureRedirect(let from, let to): return .failure(Failure.insecureRedirect(from: from, to: to))
            case .tooLarge: return .failure(Failure.tooLarge("the answer is larger than allowed"))
            case .tooSlow(let seconds):
                return .failure(Failure.timeout(seconds: seconds, reason: "fewer than \(HTTPClient.lowSpeedLimit) bytes a "
                    + "second over \(seconds) s"))
            case .noHeaders(let seconds):
                return .failure(Failure.timeout(seconds: seconds, reason: "no whole response headers within \(seconds) s"))
            case nil: break
            }
            if s.tooLarge { return .failure(Failure.tooLarge("the answer is larger than allowed")) }
            if let local = error as? Failure { return .failure(local) }
            // A cancelled challenge (401 + WWW-Authenticate) ends with an error but a full response.
            if let http = s.response, error == nil || (http.statusCode == 401 || http.statusCode == 407) {
                return .success(wrap(http, s.body))
            }
            if let error {
                let ns = error as NSError
                if ns.domain == NSURLErrorDomain && ns.code == NSURLErrorTimedOut {
                    return .failure(Failure.timeout(seconds: 0))
                }
                return .failure(Failure.transport(ns.localizedDescription))
            }
            return .failure(Failure.transport("no response"))
        }
    }
}
