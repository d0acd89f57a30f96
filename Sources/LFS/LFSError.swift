import HTTP
import Logging

/// An error of the LFS layer. `message` names what went wrong and never holds a secret.
public struct LFSError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case authentication, notFound, timeout, cancelled, network, protocolError, integrity, io, server, insecure
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }

    /// A failed HTTP exchange in LFS's words; `what` names the exchange ("download of 1a2b3c...").
    init(_ failure: HTTPClient.Failure, what: String) {
        switch failure {
        case .cancelled: self.init(.cancelled, "cancelled")
        case .timeout(let seconds): self.init(.timeout, "\(what) timed out: no data for \(seconds) s")
        case .insecureRedirect(let from, let to):
            self.init(.insecure, "refused a redirect from \(from) to \(to): https must not drop to http")
        case .local(let message): self.init(.io, message)
        case .transport(let message): self.init(.network, "\(what) failed: \(message)")
        }
    }
}

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
