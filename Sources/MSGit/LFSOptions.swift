import Foundation
import LFS

/// How clone, pull, checkout and `lfs pull` treat Git LFS files.
public struct LFSOptions: Sendable {
    /// Resolve LFS files at all (clone's `--no-lfs` turns this off: pointers stay).
    public var enabled = true
    /// gitignore-style patterns of paths to fetch (none: all), as git-lfs's `--include`.
    public var include: [String] = []
    /// Patterns of paths not to fetch, as git-lfs's `--exclude`.
    public var exclude: [String] = []
    /// Downloads at once; nil: sized to the round trip to the storage host, from 8 (git-lfs's
    /// number) to 64 (`InFlight.transfers`).
    public var jobs: Int?
    /// The largest segment of a resumable download (objects over 8 MiB come in segments); see
    /// `Fetcher.Options.segmentSize`.
    public var segmentSize: Int64 = 4 << 20
    /// Work-tree files are hard links to their stored objects, made read-only: one copy on disk
    /// (see `WorkTree.Placement.hardLink`; `unprotect` makes a file writable). Without it, a file is
    /// a copy-on-write clone of its object where the file system can make one, else a copy.
    public var link = false
    /// A content-addressed store shared by many repositories (git-lfs's layout: `objects/`,
    /// `incomplete/`, `tmp/`): objects come from it when it has them, are downloaded into it once
    /// otherwise, and the repository's `.git/lfs/objects` gets hard links to them (copies across
    /// file systems). Default: the repository's `lfs.storage` setting, as git-lfs reads it.
    public var storage: URL?

    /// Patterns from a comma-separated list, as `--include`/`--exclude` and git-lfs's
    /// `lfs.fetchinclude`/`lfs.fetchexclude` give them.
    public static func patterns(_ list: String?) -> [String] {
        PathFilter.patterns(list)
    }

    /// The defaults resolve every LFS file, as many downloads at once as the round trip calls for, into
    /// copies (or copy-on-write clones) in the work tree, with the repository's own store. The segment
    /// size is not a parameter: set `segmentSize` on the value.
    public init(enabled: Bool = true, include: [String] = [], exclude: [String] = [], jobs: Int? = nil,
                link: Bool = false, storage: URL? = nil) {
        self.enabled = enabled
        self.include = include
        self.exclude = exclude
        self.jobs = jobs
        self.link = link
        self.storage = storage
    }
}
