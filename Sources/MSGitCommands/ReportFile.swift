import ArgumentParser
import Foundation
import MSGit
import Synchronization

/// The JSON lines report, written as results come (so a killed run leaves the lines it had).
final class ReportFile: Sendable {
    private let handle: Mutex<FileHandle>

    init(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw MSGitError(.io, "cannot write the report '\(path)'")
        }
        self.handle = Mutex(handle)
    }

    func append(line: String) {
        handle.withLock { $0.write(Data((line + "\n").utf8)) }
    }

    func append(_ result: MirrorResult) {
        guard let line = MirrorReportLine(result).json() else { return }
        handle.withLock { $0.write(Data((line + "\n").utf8)) }
    }
}
