/// What an HTTP status tells msgit: the one table every exchange reads (the batch API, storage
/// hosts, uploads and their verification, the authentication probe and `auth check`, retries),
/// so that a status means the same everywhere. The LFS batch API's per-object `error.code`s are
/// HTTP statuses too (docs/api/batch.md) and read the same table.
public enum StatusMeaning: Sendable, Equatable {
    /// 2xx.
    case success
    /// 401 or 403: the credential, or its absence, was not accepted. (GitLab answers 403 where
    /// the token is valid but lacks access; both mean "not with this credential".)
    case refused
    /// 404: no such repository or object (or, on a private repository, no access to it).
    case notFound
    /// 410: the object was there and was removed.
    case gone
    /// 413: the request was too large (a batch request of too many objects).
    case tooLarge
    /// 422: the server refused what it was sent as invalid (an object of the wrong size).
    case invalid
    /// 429, and every 5xx but 501: a busy or failing server, tried again after `Retry-After`.
    case retryable
    /// Anything else (3xx the client did not follow, 400, 501, ...): a plain failure.
    case failed

    /// The meaning of HTTP status `status`.
    public init(_ status: Int) {
        switch status {
        case 200...299: self = .success
        case 401, 403: self = .refused
        case 404: self = .notFound
        case 410: self = .gone
        case 413: self = .tooLarge
        case 422: self = .invalid
        case 429: self = .retryable
        case 501: self = .failed
        case 500...599: self = .retryable
        default: self = .failed
        }
    }
}
