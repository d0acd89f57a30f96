import Foundation

/// What mirroring one repository did. The command line writes it as a line of its report.
public struct MirrorResult: Sendable {
    /// How far the mirroring of one repository got.
    public enum Status: Sendable, Equatable {
        /// Git, LFS and the push (if asked) all done.
        case mirrored
        /// Git mirrored, but some LFS objects could not be fetched (`lfsFailures`); nothing was
        /// pushed, and the next run fetches them again.
        case lfsIncomplete
        /// Nothing or not all of it: `error` says why.
        case failed
        /// Another run holds this repository's lock; that run mirrors it.
        case busy
    }

    /// The repository URL, without userinfo.
    public var url: String
    /// The mirror's directory, once it is known.
    public var path: URL?
    /// How far it got; `error` says why when it is not `.mirrored`.
    public var status: Status
    /// References created, moved or deleted in the mirror by this run.
    public var refsChanged: Int
    /// LFS objects downloaded by this run (objects already in a store are not counted).
    public var lfsObjects: Int
    /// Bytes of those LFS objects.
    public var lfsBytes: Int64
    /// The LFS objects that could not be fetched, each with a path that names it and the reason.
    public var lfsFailures: [LFSFailure]
    /// Where the mirror was pushed (`MirrorOptions.pushTo` filled in), without userinfo.
    public var pushedTo: String?
    /// The whole mirroring of this repository, its push included.
    public var duration: Duration
    /// Why the status is not `.mirrored`: the failure (`.failed`), the count of LFS objects not
    /// fetched (`.lfsIncomplete`, kind `.lfsIncomplete`; they are in `lfsFailures`) or the other
    /// run (`.busy`, kind `.io`).
    public var error: MSGitError?

    /// A result with every field given; the counts 0 and the lists empty as for a repository that was
    /// not reached.
    public init(url: String, path: URL? = nil, status: Status, refsChanged: Int = 0, lfsObjects: Int = 0, lfsBytes: Int64 = 0,
                lfsFailures: [LFSFailure] = [], pushedTo: String? = nil, duration: Duration = .zero, error: MSGitError? = nil) {
        self.url = url
        self.path = path
        self.status = status
        self.refsChanged = refsChanged
        self.lfsObjects = lfsObjects
        self.lfsBytes = lfsBytes
        self.lfsFailures = lfsFailures
        self.pushedTo = pushedTo
        self.duration = duration
        self.error = error
    }
}
