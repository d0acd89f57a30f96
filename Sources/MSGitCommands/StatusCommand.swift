import ArgumentParser
import Foundation
import MSGit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show changed and untracked files, as git status --short does.",
        discussion: """
            One line per path that is not clean, in git's short format ("XY path": the index against \
            HEAD, then the work tree against the index; "??" for untracked). An LFS file whose content \
            matches its pointer is clean, as git-lfs's clean filter would have it. LFS files that are \
            still pointers are listed after (on standard error), or in --json as lfs_pointers.
            """)

    @Flag(name: .shortAndLong, help: "The short format (the only one; accepted for git's sake).")
    var short = false

    @Flag(name: .shortAndLong, help: "Start with a line naming the branch, its upstream, and how far ahead and behind.")
    var branch = false

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = GitClient(credentials: NoCredentials(), writeCredentials: nil)
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let status = try await global.perform("status", { try await client.status(in: directory) }, fill: { report, status in
            report.directory = directory.path
            report.branch = status.branch
            report.head = status.head
            report.upstream = status.upstream
            report.ahead = status.ahead
            report.behind = status.behind
            report.files = status.files
            report.lfsPointers = status.lfsPointers
        })
        guard !global.json else { return }
        var lines: [String] = []
        if branch { lines.append(Self.branchLine(status)) }
        lines += status.files.map { $0.shortLine(quotingNonASCII: status.quotePath) }
        if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        if !status.lfsPointers.isEmpty && !global.quiet {
            FileHandle.standardError.write(Data(("\(status.lfsPointers.count) LFS file\(status.lfsPointers.count == 1 ? " is" : "s are") "
                + "still pointers (msgit lfs pull):\n" + status.lfsPointers.map { "  \($0)\n" }.joined()).utf8))
        }
    }

    /// git's "## main...origin/main [ahead 1, behind 2]".
    static func branchLine(_ status: RepositoryStatus) -> String {
        guard let branch = status.branch else { return "## HEAD (no branch)" }
        var line = status.head == nil ? "## No commits yet on \(branch)" : "## \(branch)"
        if let upstream = status.upstream, status.head != nil {
            line += "...\(upstream)"
            let counts = [status.ahead > 0 ? "ahead \(status.ahead)" : nil, status.behind > 0 ? "behind \(status.behind)" : nil]
                .compactMap { $0 }
            if !counts.isEmpty { line += " [\(counts.joined(separator: ", "))]" }
        }
        return line
    }
}

extension StatusCommand: GlobalOptionsCommand {}
