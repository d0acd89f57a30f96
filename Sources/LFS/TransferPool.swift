import HTTP

/// What every LFS transfer of one owner (a `GitClient` and all its operations) shares: the HTTP
/// client of batch requests and small objects, the one of large objects' segments (a session of
/// their own, see `ObjectDownloader.bulk`), and the budget of streamed bytes in flight.
///
/// Shared, the per-origin connection limits hold across all operations (a hundred clones from
/// one storage host open no more connections than one would be allowed), connections are reused
/// from one operation to the next, requests for a host queue in arrival order whoever made them,
/// and memory is bounded for the owner, not per operation.
public final class TransferPool: Sendable {
    /// Batch requests (bounded exchanges, `HTTPClient.send`) and downloads of whole objects.
    public let http: HTTPClient
    /// Segments of large objects.
    public let bulk: HTTPClient
    /// Bytes of streamed bodies in flight, for all transfers at once (`InFlight.streamMemory`); it
    /// grows with the round trip to the storage host, up to the most a far host calls for.
    let memory: AsyncLimiter

    /// Each operation keeps its own downloads in flight to what the round trip calls for
    /// (`InFlight.transfers`); the pool caps all of them together at 64 a host, so that many
    /// operations at once neither wait for each other's first eight nor open more than that.
    public init(idleTimeout: Duration, connectTimeout: Duration = .seconds(30)) {
        http = HTTPClient(idleTimeout: idleTimeout, connectTimeout: connectTimeout,
                          maximumConnectionsPerHost: InFlight.mostTransfers)
        bulk = HTTPClient(idleTimeout: idleTimeout, connectTimeout: connectTimeout,
                          maximumConnectionsPerHost: InFlight.mostTransfers)
        memory = AsyncLimiter(Int(InFlight.streamMemory(roundTrip: nil)))
    }

    /// Cancels every request under way and refuses new ones (`HTTPClient.Failure.shutDown`).
    public func shutdown() {
        http.shutdown()
        bulk.shutdown()
    }
}
