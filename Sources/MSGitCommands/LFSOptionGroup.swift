import ArgumentParser
import Foundation
import LFS
import MSGit

/// The options that choose and tune LFS downloads (clone and lfs pull).
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

    func options(enabled: Bool = true) -> LFSOptions {
        LFSOptions(enabled: enabled, include: PathFilter.patterns(include), exclude: PathFilter.patterns(exclude),
                   jobs: jobs)
    }
}
