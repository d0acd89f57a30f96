import Foundation
import LFS

/// How clone and `lfs pull` treat Git LFS files.
public struct LFSOptions: Sendable {
    /// Resolve LFS files at all (clone's `--no-lfs` turns this off: pointers stay).
    public var enabled = true
    /// gitignore-style patterns of paths to fetch (none: all), as git-lfs's `--include`.
    public var include: [String] = []
    /// Patterns of paths not to fetch, as git-lfs's `--exclude`.
    public var exclude: [String] = []
    /// Downloads at once.
    public var jobs = 8
    /// The largest segment of a resumable download (objects over 8 MiB come in segments); see
    /// `Fetcher.Options.segmentSize`.
    public var segmentSize: Int64 = 4 << 20

    public init(enabled: Bool = true, include: [String] = [], exclude: [String] = [], jobs: Int = 8) {
        self.enabled = enabled
        self.include = include
        self.exclude = exclude
        self.jobs = jobs
    }
}
