import Foundation
import GitCore

/// What the LFS part of an operation did.
public struct LFSSummary: Sendable, Codable, Equatable {
    /// LFS files in the tree (after include/exclude).
    public var files = 0
    /// Files now holding their content that held a pointer before.
    public var filesResolved = 0
    /// Files left out by include/exclude.
    public var filesExcluded = 0
    /// Objects downloaded this time: one found in a store is not counted, and one that several files
    /// hold counts once.
    public var objectsDownloaded = 0
    /// The sizes of those objects, added up (a resumed download counts its whole object).
    public var bytesDownloaded: Int64 = 0
    /// Files that stay pointers, with the reason.
    public var failures: [LFSFailure] = []

    /// An empty summary: no LFS file, as for an operation with LFS turned off.
    public init() {}

    /// Throws `.lfsIncomplete` listing the failures, if there are any.
    public func requireComplete() throws(MSGitError) {
        guard !failures.isEmpty else { return }
        var error = MSGitError(.lfsIncomplete, "\(failures.count) LFS file\(failures.count == 1 ? "" : "s") could not be fetched and stay pointers")
        error.lfsFailures = failures
        throw error
    }
}
