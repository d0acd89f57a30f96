import ArgumentParser
import Foundation
import LFS
import MSGit

/// The options that choose and tune LFS downloads (clone, pull, checkout, lfs pull).
struct LFSOptionGroup: ParsableArguments {
    @Option(name: [.customShort("I"), .long],
            help: ArgumentHelp("Fetch only LFS files matching these comma-separated gitignore-style patterns.",
                               valueName: "patterns"))
    var include: String?

    @Option(name: [.customShort("X"), .long],
            help: ArgumentHelp("Do not fetch LFS files matching these comma-separated patterns.", valueName: "patterns"))
    var exclude: String?

    @Option(name: [.short, .long], help: "LFS downloads at once.")
    var jobs = 8

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    /// The options; LFS is off when `enabled` is false or GIT_LFS_SKIP_SMUDGE is set, as git-lfs's
    /// smudge filter skips then (scripts written for git-lfs set it to leave pointers).
    func options(enabled: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment) -> LFSOptions {
        LFSOptions(enabled: enabled && !Self.skipSmudge(environment), include: PathFilter.patterns(include),
                   exclude: PathFilter.patterns(exclude), jobs: jobs)
    }

    /// GIT_LFS_SKIP_SMUDGE read as git-lfs reads a boolean: 1, true, yes or on.
    static func skipSmudge(_ environment: [String: String]) -> Bool {
        ["1", "true", "yes", "on"].contains(environment["GIT_LFS_SKIP_SMUDGE"]?.lowercased() ?? "")
    }
}
