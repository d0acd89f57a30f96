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

enum LFSReport {
    /// Prints the LFS summary and the files that stayed pointers, and ends with exit code 5 if
    /// there are any.
    static func finish(_ summary: LFSSummary, options: GlobalOptions) throws {
        if summary.filesResolved > 0 {
            let bytes = ProgressRenderer.bytes(UInt64(max(summary.bytesDownloaded, 0)))
            options.say("LFS: \(summary.filesResolved) files, \(summary.objectsDownloaded) objects downloaded (\(bytes))")
        }
        guard !summary.failures.isEmpty else { return }
        var text = "error: \(summary.failures.count) LFS file\(summary.failures.count == 1 ? "" : "s") could not be fetched and stay pointers:\n"
        for failure in summary.failures {
            text += "  \(failure.path): \(failure.reason)\n"
        }
        FileHandle.standardError.write(Data(text.redacted.utf8))
        throw ExitCode(ExitStatus.lfsIncomplete)
    }
}
