import CoreMetrics
import LFS

/// What a service watches, through swift-metrics: every operation, its outcome and its time. LFS
/// bytes and objects are counted as they move (`TransferMeter`), connections as they are taken
/// (`HTTPClient`). Nothing is recorded until the service bootstraps a backend
/// (`MetricsSystem.bootstrap`); the library never does.
///
/// - `msgit_operations_total` {operation, outcome}: `outcome` is `success` or the
///   `MSGitError.Kind` of the failure (`notFound`, `authenticationRejected`, `cancelled`, ...).
/// - `msgit_operation_duration_seconds` {operation}: a timer.
/// - `msgit_lfs_bytes_total` {direction}, `msgit_lfs_objects_total` {direction, outcome}.
/// - `msgit_http_connections_in_use`: requests holding a connection (one each, HTTP/1.1).
enum OperationMetrics {
    /// Records one operation (`clone`, `fetch`, `pull`, `checkout`, `lfs_pull`, `push`, `upload`,
    /// `mirror`, ...) that took `duration` and failed with `error`, or succeeded.
    static func record(_ operation: String, duration: Duration, error: MSGitError?) {
        Counter(label: "msgit_operations_total",
                dimensions: [("operation", operation), ("outcome", error?.kind.rawValue ?? "success")]).increment()
        let (seconds, attoseconds) = duration.components
        Timer(label: "msgit_operation_duration_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension GitClient {
    /// The event channel of `handler`, if any. A failure's reason may quote a server: it is masked
    /// before the service's handler sees it, as the result's `LFSFailure` is.
    static func maskedEvents(_ handler: LFSEventHandler?) -> LFSEvents? {
        handler.map { handler in
            LFSEvents { event in
                var event = event
                if case .failed(let reason) = event.kind { event.kind = .failed(reason: reason.redacted) }
                await handler(event)
            }
        }
    }

    /// Runs operation `name` with the event channel of `handler` (nil when there is none), records
    /// it (`OperationMetrics`), and returns once the handler has had every event, whatever `body`
    /// did.
    func operation<T>(_ name: String, events handler: LFSEventHandler? = nil,
                      _ body: (LFSEvents?) async throws(MSGitError) -> T) async throws(MSGitError) -> T
    {
        let start = ContinuousClock.now
        let events = Self.maskedEvents(handler)
        do {
            let result = try await body(events)
            await events?.finish()
            OperationMetrics.record(name, duration: ContinuousClock.now - start, error: nil)
            return result
        } catch {
            await events?.finish()
            OperationMetrics.record(name, duration: ContinuousClock.now - start, error: error)
            throw error
        }
    }
}
