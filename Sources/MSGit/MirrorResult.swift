import Foundation

/// One line of a mirror report.
public struct MirrorResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ok
        /// Git and LFS mirrored, but some LFS objects could not be fetched (see `error`).
        case lfsIncomplete = "lfs-incomplete"
        case failed
        /// Another run holds this repository's lock; that run mirrors it.
        case busy
    }

    /// The repository URL, without userinfo.
    public var url: String
    public var path: String?
    public var status: Status
    /// References created, moved or deleted in the mirror by this run.
    public var refsChanged = 0
    public var lfsObjects = 0
    public var lfsBytes: Int64 = 0
    public var lfsFailures: [LFSFailure]?
    public var pushedTo: String?
    public var durationSeconds = 0.0
    public var error: String?
    public var errorKind: String?

    enum CodingKeys: String, CodingKey {
        case url, path, status, refsChanged = "refs_changed", lfsObjects = "lfs_objects", lfsBytes = "lfs_bytes"
        case lfsFailures = "lfs_failures", pushedTo = "pushed_to", durationSeconds = "duration_seconds", error
        case errorKind = "error_kind"
    }
}
