import ArgumentParser
import Foundation
import MSGit

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch and fast-forward the current branch, LFS files included.",
        discussion: """
            Fetches from the remote (default: the branch's upstream remote, else origin), moves the \
            current branch and its work tree to the tip of its upstream branch (or of <branch>), then \
            downloads the LFS files the update wrote; objects already in .git/lfs/objects are not \
            downloaded again. msgit does not merge: a branch that has commits its upstream lacks is \
            refused, and so is an update that would overwrite local changes or untracked files; nothing \
            is changed then. Other local changes and untracked files stay. GIT_LFS_SKIP_SMUDGE=1 works as \
            --no-lfs.
            """)

    @Argument(help: "The remote to pull from (a configured remote's name).")
    var remote: String?

    @Argument(help: "The remote's branch to fast-forward to (default: the current branch's upstream).")
    var branch: String?

    @Flag(help: "Leave the LFS files the update writes as pointers.")
    var noLfs = false

    @Flag(help: "Fetch, then show what the update would download and write, and do nothing else (the branch and its work tree stay).")
    var dryRun = false

    @OptionGroup var lfs: LFSOptionGroup
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        if dryRun {
            let (remote, branch, options) = (remote, branch, lfs.options(enabled: !noLfs))
            try await DryRunOutput.run("pull", global: global) {
                try await client.planPull(in: directory, remote: remote, branch: branch, lfs: options)
            }
            return
        }
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let (remote, branch, options, handler) = (remote, branch, lfs.options(enabled: !noLfs), renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("pull", {
            try await client.pull(in: directory, remote: remote, branch: branch, lfs: options, progress: handler, events: events)
        }, fill: { report, result in
            report.url = result.url
            report.directory = directory.path
            report.branch = result.branch
            report.head = result.head
            report.previousHead = result.previousHead
            report.upToDate = result.upToDate
            report.receivedObjects = result.receivedObjects
            report.receivedBytes = result.receivedBytes
            report.refs = JSONReport.changes(result.updatedRefs)
            report.setLFS(result.lfs)
        })
        renderer?.finish()
        if !result.updatedRefs.isEmpty {
            global.say("From \(result.url)\n" + result.updatedRefs.map { "   " + RefUpdateFormat.line($0) }.joined(separator: "\n"))
        }
        if result.upToDate {
            global.say("Already up to date.")
        } else {
            global.say("Updating \(result.previousHead.map { String($0.prefix(7)) } ?? "(nothing)")..\(result.head.prefix(7))\nFast-forward")
        }
        try LFSReport.finish(result.lfs, options: global)
    }
}

extension PullCommand: GlobalOptionsCommand {}
