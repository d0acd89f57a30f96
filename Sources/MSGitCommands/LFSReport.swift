import ArgumentParser
import Foundation
import MSGit

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
