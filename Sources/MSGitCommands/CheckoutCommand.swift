import ArgumentParser
import Foundation
import MSGit

struct CheckoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Switch the work tree to a branch, tag or commit, LFS files included.",
        discussion: """
            <revision> is a local branch; else a branch of the remote, for which a local branch \
            following it is made; else a tag or a commit (an id, a prefix of one, HEAD~2), which leaves \
            HEAD detached. With -b, a new branch starts at <revision> (default: HEAD). The LFS files the \
            switch writes are downloaded unless their objects are already in .git/lfs/objects, so going \
            back to a branch downloads nothing. Local changes the switch would overwrite, and untracked \
            files in its way, stop it before anything changes; other changes are carried along. \
            GIT_LFS_SKIP_SMUDGE=1 works as --no-lfs.
            """)

    @Option(name: .customShort("b"), help: ArgumentHelp("Create this branch and switch to it.", valueName: "new-branch"))
    var newBranch: String?

    @Argument(help: "The branch, tag or commit to switch to (with -b: where the new branch starts).")
    var revision: String?

    @Flag(help: "Leave the LFS files the switch writes as pointers.")
    var noLfs = false

    @OptionGroup var lfs: LFSOptionGroup
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if revision == nil && newBranch == nil { throw ValidationError("name a branch, tag or commit to check out") }
    }

    func run() async throws {
        let client = global.makeClient()
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let (revision, newBranch, options, handler) = (revision, newBranch, lfs.options(enabled: !noLfs), renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("checkout", {
            try await client.checkout(revision, in: directory, createBranch: newBranch, lfs: options, progress: handler, events: events)
        }, fill: { report, result in
            report.directory = directory.path
            report.branch = result.branch
            report.head = result.head
            report.previousHead = result.previousHead
            report.createdBranch = result.createdBranch
            report.setLFS(result.lfs)
        })
        renderer?.finish()
        switch (result.branch, result.createdBranch) {
        case let (branch?, created?) where created == branch:
            global.say("Switched to a new branch '\(branch)'")
        case let (branch?, _):
            global.say(result.previousHead == result.head && result.branch == revision ? "Already on '\(branch)'"
                : "Switched to branch '\(branch)'")
        case (nil, _):
            global.say("HEAD is now at \(result.head.prefix(7)) (detached)")
        }
        try LFSReport.finish(result.lfs, options: global)
    }
}

extension CheckoutCommand: GlobalOptionsCommand {}
