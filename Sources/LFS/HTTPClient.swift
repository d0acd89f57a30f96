import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// The URLSession every msgit HTTP request goes through, with the policies FoundationNetworking on
/// Linux does not give by default (see Vendor-notes.md):
///
/// - Redirects: FoundationNetworking follows a redirect to another host and sends the original
///   `Authorization` header along. Here a redirect to another origin drops every header that can
///   carry a credential, and a redirect from https to http is refused.
/// - 401 with `WWW-Authenticate`: a completion-handler or async task never completes. `send`,
///   `stream` and `upload` use delegate-driven tasks, which do complete once the challenge is
///   cancelled, with the 401's status; `download` (a completion-handler task, kept for servers
///   that ignore `Range`) is watched and cancelled on a 401.
/// - Stalls: a watchdog cancels a task that has sent and received nothing for `idleTimeout`. At
///   most `maximumConnectionsPerHost` tasks run at once (the rest wait here, not in libcurl's
///   queue), so a request waiting for a connection is never taken for a stalled one.
/// - Cancellation of the calling Swift task cancels the URLSession task.
public final class HTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
        public var url: URL?

        public func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        case timeout(seconds: Int)
        case cancelled
        case insecureRedirect(from: String, to: String)
        case transport(String)
        /// The answer arrived but could not be stored (disk full, permissions): not worth a retry.
        case local(String)
    }

    /// Header names never sent to an origin other than the one a request was made for.
    static let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "x-api-key",
                                                 "private-token", "x-auth-token"]

    let session: URLSession
    private let delegate: SessionDelegate
    public let idleTimeout: Duration
    /// Tasks running at once: no more than libcurl will give connections to.
    private let slots: AsyncLimiter

    public init(idleTimeout: Duration = .seconds(120), maximumConnectionsPerHost: Int = 8) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
        configuration.timeoutIntervalForRequest = idleTimeout.timeInterval + 5
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.urlCredentialStorage = nil
        configuration.httpShouldSetCookies = false
        delegate = SessionDelegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        self.idleTimeout = idleTimeout
        slots = AsyncLimiter(max(1, maximumConnectionsPerHost))
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends `request` and returns the whole answer, whatever its status (a 401 included). For
    /// small bodies: JSON of the batch API, probes. Bodies over `limit` bytes are an error.
    public func send(_ request: URLRequest, limit: Int = 64 << 20) async throws -> Response {
        let task = session.dataTask(with: request)
        let state = TaskState(limit: limit)
        return try await run(task, state: state) { [delegate] in delegate.register(task, state) }
    }

    /// Sends the file's bytes as the body of `request` (a PUT to a storage href), streaming from
    /// disk, and returns the answer. Delegate-driven like `send`, so a 401 cannot hang it.
    public func upload(_ request: URLRequest, fromFile file: URL, progress: (@Sendable (Int64) -> Void)? = nil)
        async throws -> Response
    {
        let task = session.uploadTask(with: request, fromFile: file)
        let state = TaskState(limit: 16 << 20)
        return try await run(task, state: state, progress: progress, sent: true) { [delegate] in delegate.register(task, state) }
    }

    /// Downloads `request` to a temporary file the caller then owns (moved to `destination`, which
    /// must be on a file system where a rename works or a copy is acceptable). `progress` receives the
    /// bytes received so far. The status is not checked here.
    public func download(_ request: URLRequest, to destination: URL,
                         progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Response {
        let state = TaskState(limit: 0)
        let task = session.downloadTask(with: request) { location, response, error in
            // Runs before URLSession deletes `location`. After a cancel the caller has moved on.
            guard !state.isFinished else { return }
            if let location, error == nil {
                do {
                    try Self.move(location, to: destination)
                } catch {
                    unlink(destination.path)
                    state.finish(error: Failure.local("cannot write \(destination.path): \(error)"))
                    return
                }
            }
            state.finish(response: response, error: error)
        }
        return try await run(task, state: state, progress: progress) { [delegate] in delegate.register(task, state) }
    }

    /// Sends `request` and hands the body of an answer that `accept` takes to `write`, chunk by
    /// chunk, in order, on the session's delegate queue (one call at a time), as it arrives: nothing
    /// is buffered in a file of Foundation's, and the bytes cross into user space once. An answer
    /// `accept` refuses is not read: its status and headers come back with an empty body. An error
    /// thrown by `write` cancels the task and is thrown from here as it is.
    ///
    /// FoundationNetworking queues delivered data for the delegate without back-pressure, so the
    /// bytes held in memory at once are bounded only by the length of the answer: callers keep
    /// each request to a bounded `Range`.
    public func stream(_ request: URLRequest, accept: @escaping @Sendable (HTTPURLResponse) -> Bool,
                       write: @escaping @Sendable (Data) throws -> Void,
                       progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Response {
        let task = session.dataTask(with: request)
        let state = TaskState(limit: 0, stream: TaskState.Stream(accept: accept, write: write))
        return try await run(task, state: state, progress: progress) { [delegate] in delegate.register(task, state) }
    }

    private func run(_ task: URLSessionTask, state: TaskState, progress: (@Sendable (Int64) -> Void)? = nil,
                     sent: Bool = false, register: () -> Void) async throws -> Response {
        try Task.checkCancellation()
        try await slots.acquire()
        defer { slots.release() }
        register()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                // If the task was cancelled in between, onCancel has already finished the state and
                // this resumes at once; the URLSession task is then never started.
                guard state.setContinuation(continuation) else { return }
                task.resume()
                Self.watch(task, state: state, idle: idleTimeout, progress: progress, reportSent: sent)
            }
        } onCancel: {
            state.cancel(task, reason: .cancelled)
        }
    }

    /// Polls the task: cancels it when nothing moves for `idle`, and when a download's answer is a
    /// 401 (which would otherwise never complete on Linux).
    private static func watch(_ task: URLSessionTask, state: TaskState, idle: Duration,
                              progress: (@Sendable (Int64) -> Void)?, reportSent: Bool) {
        Watchdog(task: task, state: state, idle: idle, progress: progress, reportSent: reportSent).schedule()
    }

    private final class Watchdog: @unchecked Sendable {
        // @unchecked Sendable: `lastBytes` and `lastChange` are touched only by `tick`, and each tick
        // schedules the next one, so no two run at once; the other fields are immutable or Sendable.
        let task: URLSessionTask
        let state: TaskState
        let idleSeconds: Double
        let progress: (@Sendable (Int64) -> Void)?
        /// Report bytes sent (uploads) rather than received.
        let reportSent: Bool
        var lastBytes: Int64 = -1
        var lastChange = ContinuousClock.now

        init(task: URLSessionTask, state: TaskState, idle: Duration, progress: (@Sendable (Int64) -> Void)?,
             reportSent: Bool) {
            self.task = task
            self.state = state
            idleSeconds = idle.timeInterval
            self.progress = progress
            self.reportSent = reportSent
        }

        func schedule() {
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { self.tick() }
        }

        func tick() {
            guard !state.isFinished else { return }
            let moved = task.countOfBytesReceived + task.countOfBytesSent
            if moved != lastBytes {
                lastBytes = moved
                lastChange = .now
                progress?(reportSent ? task.countOfBytesSent : task.countOfBytesReceived)
            }
            if task is URLSessionDownloadTask, let http = task.response as? HTTPURLResponse, http.statusCode == 401 {
                state.cancel(task, reason: .unauthorized(http))
                return
            }
            let silent = ContinuousClock.now - lastChange
            if silent.timeInterval > idleSeconds {
                state.cancel(task, reason: .timeout(Int(idleSeconds.rounded())))
                return
            }
            schedule()
        }
    }

    /// What one task collected, and the continuation waiting for it. Shared between the delegate
    /// queue, the watchdog and the caller, hence the lock.
    final class TaskState: Sendable {
        enum Reason: Sendable {
            case timeout(Int), cancelled, unauthorized(HTTPURLResponse), insecureRedirect(String, String)
            /// The stream's `write` threw.
            case sink(any Error)
        }
        /// A body handed to the caller as it arrives (`HTTPClient.stream`).
        struct Stream: Sendable {
            var accept: @Sendable (HTTPURLResponse) -> Bool
            var write: @Sendable (Data) throws -> Void
        }
        private struct Inner {
            var continuation: CheckedContinuation<Response, any Error>?
            var response: HTTPURLResponse?
            var body = Data()
            /// Set once, by whichever comes first: completion, cancellation, the watchdog.
            var result: Result<Response, any Error>?
            var reason: Reason?
            var tooLarge = false
        }
        private let inner = Mutex(Inner())
        let limit: Int
        let stream: Stream?

        init(limit: Int, stream: Stream? = nil) {
            self.limit = limit
            self.stream = stream
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

        func received(_ response: URLResponse) {
            inner.withLock { $0.response = response as? HTTPURLResponse }
        }

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
            let (continuation, result): (CheckedContinuation<Response, any Error>?, Result<Response, any Error>?) =
                inner.withLock { s in
                    guard s.result == nil else { return (nil, nil) }
                    if let response = response as? HTTPURLResponse { s.response = response }
                    let outcome = Self.outcome(s, error: error)
                    s.result = outcome
                    let c = s.continuation
                    s.continuation = nil
                    return (c, outcome)
                }
            if let continuation, let result { continuation.resume(with: result) }
        }

        private static func outcome(_ s: Inner, error: (any Error)?) -> Result<Response, any Error> {
            func wrap(_ http: HTTPURLResponse, _ body: Data) -> Response {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
                return Response(status: http.statusCode, headers: headers, body: body, url: http.url)
            }
            switch s.reason {
            case .timeout(let seconds): return .failure(Failure.timeout(seconds: seconds))
            case .cancelled: return .failure(Failure.cancelled)
            case .unauthorized(let http): return .success(wrap(http, Data()))
            case .insecureRedirect(let from, let to): return .failure(Failure.insecureRedirect(from: from, to: to))
            case .sink(let error): return .failure(error)
            case nil: break
            }
            if s.tooLarge { return .failure(Failure.transport("response body larger than allowed")) }
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

    /// The session delegate: redirect policy, challenges, and the data of delegate-driven tasks.
    final class SessionDelegate: NSObject, URLSessionDataDelegate, Sendable {
        private let states = Mutex<[Int: TaskState]>([:])

        func register(_ task: URLSessionTask, _ state: TaskState) {
            states.withLock { $0[task.taskIdentifier] = state }
        }

        private func state(_ task: URLSessionTask) -> TaskState? {
            states.withLock { $0[task.taskIdentifier] }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            guard let from = task.currentRequest?.url ?? task.originalRequest?.url,
                  let next = HTTPClient.redirected(request, from: from) else {
                completionHandler(nil)
                state(task)?.cancel(task, reason: .insecureRedirect(
                    (task.currentRequest?.url).map(\.redactedForRedirect) ?? "?", request.url.map(\.redactedForRedirect) ?? "?"))
                return
            }
            completionHandler(next)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
            // Credentials are sent explicitly, to the right origin only; never from a store.
            completionHandler(.cancelAuthenticationChallenge, nil)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            guard let state = state(dataTask) else { return completionHandler(.allow) }
            state.received(response)
            if let stream = state.stream, let http = response as? HTTPURLResponse, !stream.accept(http) {
                // Not the answer the caller streams (an error, a 200 to a Range request): return
                // its status without reading the body.
                state.finish(response: response, error: nil)
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard let state = state(dataTask) else { return }
            if let stream = state.stream {
                guard !state.isFinished else { return }
                do {
                    try stream.write(data)
                } catch {
                    state.cancel(dataTask, reason: .sink(error))
                }
            } else if !state.append(data) {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let state = states.withLock { $0.removeValue(forKey: task.taskIdentifier) }
            // Download tasks finish in their completion handler; this only catches what it did not.
            if task is URLSessionDataTask { state?.finish(response: task.response, error: error) }
        }
    }

    /// Moves Foundation's temporary file into place: a rename, or a copy across file systems.
    static func move(_ source: URL, to destination: URL) throws {
        if rename(source.path, destination.path) == 0 { return }
        guard errno == EXDEV else { throw LFSError(.io, String(cString: strerror(errno))) }
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw LFSError(.io, String(cString: strerror(errno))) }
        defer { close(input) }
        let output = open(destination.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw LFSError(.io, String(cString: strerror(errno))) }
        defer { close(output) }
        var st = stat()
        fstat(input, &st)
        do {
            try copyRange(from: input, to: output, count: Int64(st.st_size), at: 0, name: destination.path)
        } catch let error as LFSError {
            // Keep just the reason ("No space left on device"): the caller names the file.
            throw LFSError(.io, error.message.components(separatedBy: ": ").last ?? error.message)
        }
    }

    /// The request to follow a redirect with: unchanged on the same origin; without any header that
    /// may hold a credential on another origin; nil (refused) from https to anything else.
    static func redirected(_ request: URLRequest, from: URL) -> URLRequest? {
        guard let to = request.url else { return nil }
        if from.scheme?.lowercased() == "https" && to.scheme?.lowercased() != "https" { return nil }
        guard !sameOrigin(from, to) else { return request }
        var stripped = request
        for name in (request.allHTTPHeaderFields ?? [:]).keys where credentialHeaders.contains(name.lowercased()) {
            stripped.setValue(nil, forHTTPHeaderField: name)
        }
        return stripped
    }

    public static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func port(_ u: URL) -> Int { u.port ?? (u.scheme?.lowercased() == "https" ? 443 : 80) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
    }
}

/// A counting semaphore for async code: `acquire` waits (cancellably) for one of `count` slots.
final class AsyncLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: count)) }

    func acquire() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: a cancel handler that ran before this found no waiter.
                let outcome = state.withLock { s -> Bool? in
                    if Task.isCancelled { return false }
                    if s.available > 0 {
                        s.available -= 1
                        return true
                    }
                    s.waiters.append((id, continuation))
                    return nil
                }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard !s.waiters.isEmpty else {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}

extension URL {
    /// scheme://host[:port]/path, without userinfo or query, for messages about redirects.
    var redactedForRedirect: String {
        var c = URLComponents(url: self, resolvingAgainstBaseURL: false) ?? URLComponents()
        c.user = nil
        c.password = nil
        c.query = nil
        return c.string ?? "?"
    }
}
