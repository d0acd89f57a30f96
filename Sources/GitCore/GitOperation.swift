internal import CGitSupport
import Foundation

/// One libgit2 operation (a clone, a fetch, a push): its network timeouts and its cancellation flag.
///
/// libgit2 is synchronous and makes its connections on the calling thread, so `run` executes the
/// work on a thread of its own (never on the Swift concurrency pool) with this operation installed
/// as the thread's current operation; msgit's socket stream reads the timeouts and the flag from
/// there. Cancelling the calling task cancels the operation: blocked socket waits return within
/// ~50 ms and progress callbacks return an error, which libgit2 propagates.
public final class GitOperation: @unchecked Sendable {
    // @unchecked Sendable: `handle` is immutable after init and points to a C struct whose mutable
    // fields are C11 atomics; the timeouts are immutable.
    private let handle: OpaquePointer
    public let connectTimeout: Duration
    public let idleTimeout: Duration

    public init(connectTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(300)) {
        _ = Libgit2.initialized
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        guard let op = msgit_operation_new(Self.milliseconds(connectTimeout), Self.milliseconds(idleTimeout)) else {
            fatalError("out of memory")
        }
        handle = op
    }

    deinit { msgit_operation_free(handle) }

    public func cancel() { msgit_operation_cancel(handle) }
    public var isCancelled: Bool { msgit_operation_is_cancelled(handle) != 0 }

    /// Bytes received over the network by this operation so far.
    public var bytesReceived: UInt64 { msgit_operation_bytes_read(handle) }

    /// What made a stream of this operation give up, if anything did.
    public var streamFailure: GitError.StreamFailure? {
        switch msgit_stream_failure(rawValue: UInt32(msgit_operation_failure(handle))) {
        case MSGIT_STREAM_CONNECT_TIMEOUT: .connectTimeout
        case MSGIT_STREAM_IDLE_TIMEOUT: .idleTimeout
        case MSGIT_STREAM_CANCELLED: .cancelled
        case MSGIT_STREAM_OFF_ORIGIN: .offOrigin
        case MSGIT_STREAM_TOO_SLOW: .tooSlow
        default: isCancelled ? .cancelled : nil
        }
    }

    /// From now on, the streams of this operation may connect only to `endpoint` (and to port 443
    /// of its host when `upgrade` allows https there): called as a credential is handed to
    /// libgit2, which would send it again after a redirect anywhere (Vendor-notes.md).
    func restrict(to endpoint: GitCredential.Endpoint) {
        msgit_operation_restrict(handle, endpoint.host, Int32(endpoint.port), endpoint.upgradePort.map(Int32.init) ?? -1)
    }

    /// The host and port the operation's last request went to, if any.
    var lastEndpoint: (host: String, port: Int)? {
        var buffer = [CChar](repeating: 0, count: 256)
        var port: Int32 = 0
        guard msgit_operation_last_endpoint(handle, &buffer, buffer.count, &port) != 0 else { return nil }
        return (String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), Int(port))
    }

    /// Runs `body` on a dedicated thread with this operation installed, and returns its result.
    /// A `GitError` thrown by `body` is annotated with the stream failure that caused it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread { [self] in
                    msgit_operation_enter(handle)
                    defer { msgit_operation_leave() }
                    do {
                        continuation.resume(returning: try body())
                    } catch var error as GitError {
                        if error.streamFailure == nil { error.streamFailure = streamFailure }
                        continuation.resume(throwing: error)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "msgit-libgit2"
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            cancel()
        }
    }

    private static func milliseconds(_ d: Duration) -> Int32 {
        let (seconds, attoseconds) = d.components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(ms, 1))
    }
}
