import HTTP
import Logging

extension RetryPolicy {
    /// `run`, with failures as `LFSError`s naming `what`.
    func exchange(_ what: String, logger: Logger, _ body: () async throws -> HTTPClient.Response) async throws
        -> HTTPClient.Response
    {
        do {
            return try await run(what, logger: logger, body)
        } catch let failure as HTTPClient.Failure {
            throw LFSError(failure, what: what)
        }
    }
}
