import ArgumentParser
import Foundation
import MSGit

struct LFSPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download the missing LFS objects of the checked-out tree and put them in place.",
        discussion: """
            Objects already in .git/lfs/objects are not downloaded again, and an interrupted download \
            continues where it stopped. Files that cannot be fetched stay pointers, are listed, and \
            msgit exits with 5.
            """)

    @Argument(help: "The remote whose LFS server to use (default: the current branch's remote, else origin).")
    var remote: String?

    @Flag(help: "Show what would be downloaded and written (each LFS file's action, the bytes, the room on disk), and do nothing else.")
    var dryRun = false

    @OptionGroup var lfs: LFSOptionGroup
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        if dryRun {
            let (remote, options) = (remote, lfs.options())
            try await DryRunOutput.run("lfs pull", global: global) {
                try await client.planLFSPull(in: directory, remote: remote, lfs: options)
            }
            return
        }
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let (remote, options, handler) = (remote, lfs.options(), renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("lfs pull", {
            try await client.lfsPull(in: directory, remote: remote, lfs: options, progress: handler, events: events)
        }, fill: { report, result in
            report.url = result.url
            report.directory = directory.path
            report.setLFS(result.lfs)
        })
        renderer?.finish()
        try LFSReport.finish(result.lfs, options: global)
    }
}

extension LFSPullCommand: GlobalOptionsCommand {}
