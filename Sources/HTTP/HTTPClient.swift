import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// The URLSession every msgit HTTP request goes through, with the policies FoundationNetworking on
/// Linux does not give by default (see Vendor-notes.md):
///
/// - Redirects: FoundationNetworking follows a redirect to another host with the original
///   request's credential. Here `CredentialScope.redirected` decides: a redirect to another origin
///   drops every header that can carry a credential, and one from https to http is refused.
/// - 401 with `WWW-Authenticate`: a completion-handler or async task never completes. `send`,
///   `stream` and `upload` use delegate-driven tasks, which do complete once the challenge is
///   cancelled, with the 401's status; `download` (a completion-handler task, kept for servers
///   that ignore `Range`) is watched and cancelled on a 401.
/// - Stalls: a watchdog cancels a task that has sent and received nothing for `idleTimeout`. At
///   most `maximumConnectionsPerHost` tasks per origin run at once (the rest wait here, not in
///   libcurl's queue), so a request waiting for a connection is never taken for a stalled one, and
///   requests to one origin never wait for another's (a batch request behind storage downloads).
/// - Cancellation of the calling Swift task cancels the URLSession task.
public final class HTTPClient: Sendable {
    /// An answer: its status, headers and body (bounded as the request asked), and how long it took.
    public struct Response: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The answer's headers, names as the server spelled them; read them with `header(_:)`.
        public var headers: [String: String]
        /// The body as read: empty for a download to a file, cut at the limit of a truncating request.
        public var body: Data
        /// Where the answer came from, after any redirect.
        public var url: URL?
        /// From sending the request to the answer's headers (a download task's is not measured).
        public var wait: Duration?
        /// From sending the request to the end of the answer.
        public var elapsed: Duration?
        /// From the request's last byte to the answer's first (libcurl exchanges): a round trip and
        /// the server's work, for an upload what `wait` is for a download.
        var answerWait: Duration?

        /// An answer with every field given, as an exchange or a test's fake server makes one.
        public init(status: Int, headers: [String: String] = [:], body: Data = Data(), url: URL? = nil,
                    wait: Duration? = nil, elapsed: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.url = url
            self.wait = wait
            self.elapsed = elapsed
        }

        /// The value of header `name`, whatever its case; nil when the answer has none.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// The low-speed limit, in bytes a second over a window of the idle limit (as msgit's git
    /// connections and curl's CURLOPT_LOW_SPEED_LIMIT have it): an idle limit alone is reset by any
    /// byte, so a server sending one a second would hold a transfer forever.
    public static let lowSpeedLimit = 16

    /// Why an exchange failed; the LFS layer and MSGit put it in their own words. Messages name hosts
    /// without userinfo or query.
    public enum Failure: Error, Sendable, Equatable {
        /// No progress (or too little) within the limit; `reason` says which limit, when known.
        case timeout(seconds: Int, reason: String? = nil)
        /// The calling task was cancelled, or `shutdown()` cancelled a task under way.
        case cancelled
        /// The answer (or its header block) was larger than allowed; it was not read further.
        case tooLarge(String)
        /// The client was shut down (`shutdown()`): no request starts any more.
        case shutDown
        /// A redirect from https to http was refused; both URLs without userinfo or query.
        case insecureRedirect(from: String, to: String)
        /// The connection could not be made or broke; retried by `RetryPolicy`.
        case transport(String)
        /// The answer arrived but could not be stored (disk full, permissions): not worth a retry.
        case local(String)
    }

    let session: URLSession
    private let delegate: SessionDelegate
    /// The longest a request may go without sending or receiving a byte before it is cancelled.
    public let idleTimeout: Duration
    /// The longest a connection may take to open.
    public let connectTimeout: Duration
    /// Tasks running at once per origin: no more than libcurl gives each host connections.
    let slots: ConnectionLimiter
    /// The connections of the libcurl exchanges (`send`, `stream`, `upload`), reused from one to
    /// the next.
    let exchanges = ExchangePool()
    /// Those exchanges under way, for `shutdown()`.
    let running = RunningExchanges()
    private let closed = Mutex(false)

    /// Whether `shutdown()` was called.
    public var isShutDown: Bool { closed.withLock { $0 } }

    /// Cancels every task under way (their callers get `.cancelled`) and refuses new requests
    /// (`.shutDown`), as AsyncHTTPClient's `shutdown()` does: the libcurl exchanges under way
    /// (`send`, `stream`, `upload`) and the URLSession's tasks alike.
    public func shutdown() {
        guard closed.withLock({ done in defer { done = true }; return !done }) else { return }
        running.cancelAll()
        session.invalidateAndCancel()
    }

    /// Makes a task of the session unless the client was shut down (under the same lock, so that
    /// no task is made on an invalidated session, which FoundationNetworking does not allow).
    private func makeTask<T: URLSessionTask>(_ make: (URLSession) -> T) throws -> T {
        try closed.withLock { done in
            if done { throw Failure.shutDown }
            return make(session)
        }
    }
    /// Reports the running tasks' progress and cancels those that stall.
    private let watchdog: Watchdog
    /// The round trip to each origin, from the answers' waits.
    public let roundTrips = RoundTrips()

    /// - Parameters:
    ///   - maximumConnectionsPerHost: the most connections to one origin.
    ///   - connectionsPerHost: how many of them requests may use at first (default: all);
    ///     `allowConnections` gives more, as what is learned of the host calls for.
    public init(idleTimeout: Duration = .seconds(120), connectTimeout: Duration = .seconds(30),
                maximumConnectionsPerHost: Int = 8, connectionsPerHost: Int? = nil) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maximumConnectionsPerHost
        configuration.timeoutIntervalForRequest = idleTimeout.timeInterval + 5
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.urlCredentialStorage = nil
        configuration.httpShouldSetCookies = false
        // Not only storing none: FoundationNetworking parses every header line of every answer
        // for cookies unless the policy is `.never` (a few percent of the CPU of a pull of
        // many small objects).
        configuration.httpCookieAcceptPolicy = .never
        delegate = SessionDelegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        watchdog = Watchdog(idle: idleTimeout)
        slots = ConnectionLimiter(perOrigin: max(1, min(connectionsPerHost ?? maximumConnectionsPerHost,
                                                        maximumConnectionsPerHost)),
                                  most: max(1, maximumConnectionsPerHost))
    }

    /// Lets requests to `origin` use `count` connections at once from now on (never fewer than
    /// before, never more than `maximumConnectionsPerHost`).
    public func allowConnections(_ count: Int, to origin: Origin) {
        slots.raise(origin, to: count)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends the file's bytes as the body of `request` (a PUT to a storage href) and returns the
    /// answer, read whole up to 1 MiB. One libcurl exchange (`send`'s), reading the file in 2 MiB
    /// reads straight into libcurl's buffer: FoundationNetworking's upload task read it in small
    /// pieces through copies and took several times git-lfs's system CPU. `progress` gets the
    /// bytes sent so far. 307 and 308 repeat the upload at their location, as `send` allows.
    public func upload(_ request: URLRequest, fromFile file: URL, progress: (@Sendable (Int64) -> Void)? = nil)
        async throws -> Response
    {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.local("cannot read \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure.local("cannot read \(file.path): \(String(cString: strerror(errno)))") }
        return try await exchange(request, limit: 1 << 20, truncating: false,
                                  upload: BoundedExchange.Upload(fd: fd, size: Int64(st.st_size), sent: progress))
    }

    /// Downloads `request` to a temporary file the caller then owns (moved to `destination`, which
    /// must be on a file system where a rename works or a copy is acceptable). `progress` receives the
    /// bytes received so far. The status is not checked here.
    public func download(_ request: URLRequest, to destination: URL,
                         progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Response {
        let state = TaskState(limit: 0)
        let task = try makeTask { session in session.downloadTask(with: request) { location, response, error in
            // Runs before URLSession deletes `location`. After a cancel the caller has moved on.
            guard !state.isFinished else { return }
            if let location, error == nil {
                if let reason = Self.move(location, to: destination) {
                    unlink(destination.path)
                    state.finish(error: Failure.local("cannot write \(destination.path): \(reason)"))
                    return
                }
            }
            state.finish(response: response, error: error)
        } }
        return try await run(task, state: state, progress: progress) { [delegate] in delegate.register(task, state) }
    }

    /// Sends `request` and hands the body of an answer that `accept` takes to `write`, piece by
    /// piece, in order, one call at a time on the exchange's thread, as libcurl reads it: nothing is
    /// buffered in a file of Foundation's or in a queue, and the bytes cross into user space once.
    /// libcurl reads no more from the socket until `write` returns, so a disk slower than the link
    /// holds the link back (TCP's window closes) instead of filling memory: what is in memory is
    /// libcurl's buffer (256 KiB) per download, whatever the length of the answer. `accept` sees the
    /// final answer only (redirects are followed first, as `send` follows them); an answer it
    /// refuses is not read: its status and headers come back with an empty body. An error thrown
    /// by `write` ends the exchange and is thrown from here as it is. `progress` gets the body's
    /// bytes taken so far.
    ///
    /// (FoundationNetworking, which this went through before, queues delivered data for its
    /// delegate without back-pressure: a model clone at 200 ms held 103-149 MiB of bytes waiting
    /// for the disk.)
    public func stream(_ request: URLRequest, accept: @escaping @Sendable (HTTPURLResponse) -> Bool,
                       write: @escaping @Sendable (Data) throws -> Void,
                       progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Response {
        try await exchange(request, limit: 0, truncating: true, upload: nil,
                           stream: BoundedExchange.Stream(accept: accept, write: write, received: progress))
    }

    private func run(_ task: URLSessionTask, state: TaskState, progress: (@Sendable (Int64) -> Void)? = nil,
                     sent: Bool = false, register: () -> Void) async throws -> Response {
        try Task.checkCancellation()
        if isShutDown { throw Failure.shutDown }
        let origin = task.originalRequest?.url.flatMap(Origin.init)
        try await slots.acquire(origin)
        let connection = origin.map(roundTrips.begin)
        defer {
            slots.release(origin)
            if let origin, let connection {
                roundTrips.end(origin)
                if let wait = state.wait { roundTrips.record(wait, for: origin, connection: connection) }
            }
        }
        register()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                // If the task was cancelled in between, onCancel has already finished the state and
                // this resumes at once; the URLSession task is then never started.
                guard state.setContinuation(continuation) else { return }
                state.markStarted()
                task.resume()
                watchdog.watch(task, state: state, progress: progress, reportSent: sent)
            }
        } onCancel: {
            state.cancel(task, reason: .cancelled)
        }
    }

    /// Moves Foundation's temporary file into place: a rename, or a copy across file systems.
    /// Returns why it failed ("No space left on device"), or nil.
    static func move(_ source: URL, to destination: URL) -> String? {
        if rename(source.path, destination.path) == 0 { return nil }
        guard errno == EXDEV else { return String(cString: strerror(errno)) }
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return String(cString: strerror(errno)) }
        defer { close(input) }
        let output = open(destination.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { return String(cString: strerror(errno)) }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer.baseAddress, buffer.count)
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            var done = 0
            while done < n {
                let w = write(output, buffer.baseAddress! + done, n - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                done += w
            }
        }
    }
}
