internal import CHTTPExchange
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The connections, DNS answers and TLS sessions the bounded exchanges of one `HTTPClient` share.
final class ExchangePool: @unchecked Sendable {
    // @unchecked Sendable: `handle` is immutable; libcurl's share is made thread-safe by the lock
    // functions `msgit_http_pool_new` installs.
    let handle: OpaquePointer

    init() {
        guard let pool = msgit_http_pool_new() else { fatalError("out of memory") }
        handle = pool
    }

    deinit { msgit_http_pool_free(handle) }
}

/// One HTTP exchange whose answer is read whole (`HTTPClient.send`), with libcurl, bounded as it
/// arrives (CHTTPExchange): FoundationNetworking queues a body in memory ahead of any check the
/// delegate makes. Runs on a thread of its own; cancelling the calling task cancels it.
final class BoundedExchange: @unchecked Sendable {
    // @unchecked Sendable: `handle` is immutable; after `perform` starts, only `msgit_http_cancel`
    // (thread-safe) touches it from another thread, and it is read once `perform` returned.
    private let handle: OpaquePointer

    /// A request body read from a file as it is sent (`msgit_http_set_upload_file`).
    struct Upload: Sendable {
        var fd: Int32
        var size: Int64
        /// Bytes sent so far, as they go.
        var sent: (@Sendable (Int64) -> Void)?
    }

    /// The `Upload.sent` callback, kept alive as long as the exchange, for libcurl's C callback.
    private final class Sent {
        let callback: @Sendable (Int64) -> Void
        init(_ callback: @escaping @Sendable (Int64) -> Void) { self.callback = callback }
    }
    private let sent: Sent?

    /// A response body handed to the caller as it arrives (`HTTPClient.stream`): a download.
    struct Stream: Sendable {
        /// Whether the caller takes this answer's body; a body not taken is not read.
        var accept: @Sendable (HTTPURLResponse) -> Bool
        /// Each piece, in order, on the exchange's thread; libcurl reads no more until it returns.
        var write: @Sendable (Data) throws -> Void
        /// The body's bytes taken so far.
        var received: (@Sendable (Int64) -> Void)?
    }

    /// What the C callbacks of a stream reach: the caller's closures, and the first error `write`
    /// threw. Touched only on the exchange's thread while it performs, read after.
    fileprivate final class StreamContext {
        let stream: Stream
        let url: URL?
        weak var exchange: BoundedExchange?
        var error: (any Error)?
        var received: Int64 = 0
        init(_ stream: Stream, url: URL?) {
            self.stream = stream
            self.url = url
        }
    }
    private let streamContext: StreamContext?

    init?(_ request: URLRequest, limit: Int, truncate: Bool, connectTimeout: Duration, idleTimeout: Duration,
          pool: ExchangePool, upload: Upload? = nil, stream: Stream? = nil) {
        guard let url = request.url?.absoluteString,
              let exchange = msgit_http_new(request.httpMethod ?? "GET", url) else { return nil }
        handle = exchange
        sent = upload?.sent.map(Sent.init)
        streamContext = stream.map { StreamContext($0, url: request.url) }
        msgit_http_set_pool(handle, pool.handle)
        if let upload {
            msgit_http_set_upload_file(handle, upload.fd, upload.size)
        }
        if let sent {
            msgit_http_set_sent_callback(handle, { context, bytes in
                guard let context else { return }
                Unmanaged<Sent>.fromOpaque(context).takeUnretainedValue().callback(bytes)
            }, Unmanaged.passUnretained(sent).toOpaque())
        }
        if let streamContext {
            streamContext.exchange = self
            msgit_http_set_body_stream(handle, { context, status in
                let box = Unmanaged<StreamContext>.fromOpaque(context!).takeUnretainedValue()
                return box.accepts(status: status) ? 1 : 0
            }, { context, data, length in
                let box = Unmanaged<StreamContext>.fromOpaque(context!).takeUnretainedValue()
                return box.take(data, length) ? 0 : 1
            }, Unmanaged.passUnretained(streamContext).toOpaque())
        }
        for (name, value) in request.allHTTPHeaderFields ?? [:] {
            if name.caseInsensitiveCompare("User-Agent") == .orderedSame {
                msgit_http_set_user_agent(handle, value)
            } else {
                msgit_http_add_header(handle, "\(name): \(value)")
            }
        }
        // libcurl adds "Expect: 100-continue" to larger POSTs and to uploads, and then waits up to
        // a second for a 100 that many servers never send; neither the batch API nor a storage
        // href has a use for it (git-lfs sends none).
        msgit_http_add_header(handle, "Expect:")
        if let body = request.httpBody {
            body.withUnsafeBytes { msgit_http_set_body(handle, $0.baseAddress, $0.count) }
        }
        msgit_http_set_limits(handle, max(0, limit), Self.milliseconds(connectTimeout), Self.milliseconds(idleTimeout))
        msgit_http_set_truncate(handle, truncate ? 1 : 0)
    }

    deinit { msgit_http_free(handle) }

    /// Makes a running `perform` end with `.cancelled` within milliseconds; thread-safe.
    func cancel() { msgit_http_cancel(handle) }

    func run() async throws -> HTTPClient.Response {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPClient.Response, any Error>) in
                let thread = Thread { [self] in continuation.resume(with: Result { try perform() }) }
                thread.name = "msgit-http"
                thread.start()
            }
        } onCancel: {
            msgit_http_cancel(handle)
        }
    }

    private func perform() throws -> HTTPClient.Response {
        let result = msgit_http_perform(handle)
        if let error = streamContext?.error { throw error }
        let message = String(cString: msgit_http_error(handle))
        switch result {
        case MSGIT_HTTP_OK: break
        case MSGIT_HTTP_CANCELLED: throw HTTPClient.Failure.cancelled
        case MSGIT_HTTP_TIMEOUT: throw HTTPClient.Failure.timeout(seconds: 0, reason: message)
        case MSGIT_HTTP_TOO_LARGE: throw HTTPClient.Failure.tooLarge(message)
        default: throw HTTPClient.Failure.transport(message)
        }
        let headers = currentHeaders()
        var length = 0
        let bodyBytes = msgit_http_body(handle, &length)
        let body = length > 0 ? Data(bytes: bodyBytes!, count: length) : Data()
        var response = HTTPClient.Response(status: msgit_http_status(handle), headers: headers, body: body, url: nil,
                                           wait: .seconds(msgit_http_wait_seconds(handle)),
                                           elapsed: .seconds(msgit_http_total_seconds(handle)))
        response.answerWait = .seconds(msgit_http_answer_seconds(handle))
        return response
    }

    /// The header block received so far (whole once the body has begun), parsed.
    fileprivate func currentHeaders() -> [String: String] {
        var length = 0
        let bytes = msgit_http_headers(handle, &length)
        return Self.parseHeaders(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// The fields of a response's header block as the server sent it (status line first), a
    /// repeated field's values joined with ", ". Lines without a colon are skipped.
    static func parseHeaders(_ block: UnsafeRawBufferPointer) -> [String: String] {
        let text = String(decoding: block, as: UTF8.self)
        var headers: [String: String] = [:]
        // "\r\n" is one Character in Swift: split on newlines, whatever their form.
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return headers
    }

    private static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}

extension BoundedExchange.StreamContext {
    /// Whether the body of the answer with `status` goes to the caller: never a redirect's (the
    /// exchange's caller follows it), otherwise as the caller's `accept` says.
    func accepts(status: Int) -> Bool {
        let headers = exchange?.currentHeaders() ?? [:]
        if HTTPClient.redirectStatuses.contains(status),
           headers.contains(where: { $0.key.caseInsensitiveCompare("Location") == .orderedSame }) {
            return false
        }
        guard let url, let response = HTTPURLResponse(url: url, statusCode: status, httpVersion: "HTTP/1.1",
                                                       headerFields: headers) else { return false }
        return stream.accept(response)
    }

    /// Hands a piece of the body to the caller; false (and the error kept) when it threw.
    func take(_ data: UnsafeRawPointer?, _ length: Int) -> Bool {
        guard let data, length > 0 else { return true }
        do {
            // No copy: the caller's `write` uses the bytes before it returns (FileSink does).
            try stream.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: data), count: length, deallocator: .none))
            received += Int64(length)
            stream.received?(received)
            return true
        } catch {
            self.error = error
            return false
        }
    }
}

extension HTTPClient {
    /// The statuses whose `Location` an exchange follows (an upload only 307 and 308).
    static let redirectStatuses = [301, 302, 303, 307, 308]

    /// Sends `request` and returns the whole answer, whatever its status (a 401 included, with
    /// its body). For small bodies: JSON of the batch API, probes. The body is bounded as it
    /// arrives: past `limit` bytes the exchange stops (`.tooLarge`) with no more than `limit`
    /// in memory, whatever the server sends. The answer's headers must all arrive within the
    /// idle limit, and fewer than 16 bytes a second over the idle limit end it (`.timeout`).
    ///
    /// Redirects are followed here, at most 10, as `CredentialScope.redirected` allows: a
    /// credential never follows one to another origin, and https never drops to http. 303 (and
    /// 301 or 302 after a POST) continue with a GET, as browsers and curl do; 307 and 308 repeat
    /// the request.
    ///
    /// With `truncating`, a body over `limit` is not an error: the answer comes with its first
    /// `limit` bytes (a probe that reads only the start).
    public func send(_ request: URLRequest, limit: Int = 64 << 20, truncating: Bool = false) async throws -> Response {
        try await exchange(request, limit: limit, truncating: truncating, upload: nil)
    }

    /// `send`, or `upload` with the file: the redirects an exchange follows, each in a slot of its
    /// origin's. An upload follows only 307 and 308, which repeat it; any other is its answer.
    func exchange(_ request: URLRequest, limit: Int, truncating: Bool, upload: BoundedExchange.Upload?,
                  stream: BoundedExchange.Stream? = nil) async throws -> Response
    {
        var current = request
        for _ in 0...10 {
            try Task.checkCancellation()
            if isShutDown { throw Failure.shutDown }
            let origin = current.url.flatMap(Origin.init)
            try await slots.acquire(origin)
            defer { slots.release(origin) }
            guard let exchange = BoundedExchange(current, limit: limit, truncate: truncating, connectTimeout: connectTimeout,
                                                 idleTimeout: idleTimeout, pool: exchanges, upload: upload,
                                                 stream: stream) else {
                throw Failure.transport("cannot make a request of \(current.url?.redactedForRedirect ?? "?")")
            }
            var response = try await running.run(exchange)
            response.url = current.url
            // The answer's wait of an upload or a download is a round trip and the storage
            // server's work (never a handshake): what the transfers size their requests by.
            if upload != nil || stream != nil, let origin, let wait = response.answerWait, wait > .zero {
                roundTrips.record(wait, for: origin)
            }
            let redirects = upload == nil ? Self.redirectStatuses : [307, 308]
            guard redirects.contains(response.status), let from = current.url,
                  let location = response.header("Location"),
                  let to = URL(string: location, relativeTo: from)?.absoluteURL else { return response }
            var next = current
            next.url = to
            if response.status == 303 || (response.status <= 302 && current.httpMethod == "POST") {
                next.httpMethod = "GET"
                next.httpBody = nil
                next.setValue(nil, forHTTPHeaderField: "Content-Type")
            }
            guard let allowed = CredentialScope.redirected(next, from: from) else {
                throw Failure.insecureRedirect(from: from.redactedForRedirect, to: to.redactedForRedirect)
            }
            current = allowed
        }
        throw Failure.transport("more than 10 redirects from \(request.url?.redactedForRedirect ?? "?")")
    }
}

/// The exchanges of one client under way, so that `shutdown()` can cancel them.
final class RunningExchanges: Sendable {
    private struct State: ~Copyable {
        var exchanges: [ObjectIdentifier: BoundedExchange] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    func run(_ exchange: BoundedExchange) async throws -> HTTPClient.Response {
        let id = ObjectIdentifier(exchange)
        let refused = state.withLock { s in
            if s.closed { return true }
            s.exchanges[id] = exchange
            return false
        }
        if refused { throw HTTPClient.Failure.shutDown }
        defer { _ = state.withLock { $0.exchanges.removeValue(forKey: id) } }
        return try await exchange.run()
    }

    /// Cancels every exchange under way; later ones are refused.
    func cancelAll() {
        let all = state.withLock { s in
            s.closed = true
            return Array(s.exchanges.values)
        }
        for exchange in all { exchange.cancel() }
    }
}
