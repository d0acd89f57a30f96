import ArgumentParser
import Foundation
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

    @Option(name: [.short, .long],
            help: "LFS downloads at once (default: from 8 to 64, as the round trip to the storage host calls for).")
    var jobs: Int?

    @Flag(help: ArgumentHelp("Make LFS files read-only hard links to their stored objects: one copy on disk "
                             + "('msgit lfs unprotect <file>' before editing one)."))
    var link = false

    @Option(help: ArgumentHelp("A store of LFS objects shared by repositories (default: MSGIT_LFS_STORAGE, else "
                               + "the repository's lfs.storage): objects in it are not downloaded again.", valueName: "dir"))
    var lfsStorage: String?

    func validate() throws {
        guard jobs.map({ (1...64).contains($0) }) ?? true else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    /// The options; LFS is off when `enabled` is false or GIT_LFS_SKIP_SMUDGE is set, as git-lfs's
    /// smudge filter skips then (scripts written for git-lfs set it to leave pointers).
    func options(enabled: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment) -> LFSOptions {
        let storage = lfsStorage ?? environment["MSGIT_LFS_STORAGE"].flatMap { $0.isEmpty ? nil : $0 }
        return LFSOptions(enabled: enabled && !Self.skipSmudge(environment), include: LFSOptions.patterns(include),
                          exclude: LFSOptions.patterns(exclude), jobs: jobs, link: link,
                          storage: storage.map { URL(fileURLWithPath: $0, isDirectory: true) })
    }

    /// GIT_LFS_SKIP_SMUDGE read as git-lfs reads a boolean: 1, true, yes or on.
    static func skipSmudge(_ environment: [String: String]) -> Bool {
        ["1", "true", "yes", "on"].contains(environment["GIT_LFS_SKIP_SMUDGE"]?.lowercased() ?? "")
    }
}
