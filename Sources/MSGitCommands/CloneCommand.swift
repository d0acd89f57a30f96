import ArgumentParser
import Foundation
import MSGit

struct CloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Clone a repository into a new directory.",
        discussion: """
            LFS files of the checked-out tree are downloaded over the LFS Batch API and verified \
            (SHA-256 and size) before they replace their pointers; use --no-lfs to keep pointers. If git \
            succeeds but some LFS files cannot be fetched, they stay pointers, each is listed, and msgit \
            exits with 5.

            The remote URL saved in .git/config never holds a token, even when the URL given here does. \
            On failure or Ctrl-C the directory the clone made is removed.
            """)

    @Argument(help: ArgumentHelp(
        "The repository: a URL (https://www.modelscope.cn/namespace/name.git) or a short name (namespace/name).",
        discussion: "A short name expands against MSGIT_ENDPOINT, else https:// + MODELSCOPE_DOMAIN, else https://www.modelscope.cn."))
    var url: String

    @Argument(help: "The directory to clone into (default: the repository's name).")
    var directory: String?

    @Option(name: .shortAndLong, help: "Check out this branch (or tag) instead of the remote's HEAD.")
    var branch: String?

    @Option(help: ArgumentHelp("Check out exactly this: a branch, a tag or a commit id (a tag or commit leaves HEAD detached).",
                               valueName: "revision"))
    var revision: String?

    @Flag(help: "Make a bare repository.")
    var bare = false

    @Flag(help: "Leave LFS files as pointers (fetch them later with 'msgit lfs pull').")
    var noLfs = false

    @Flag(help: "Show what would be downloaded and written (each LFS file's action, the bytes, the room on disk), and do nothing else: the history is fetched into a temporary directory to read the tree, then removed.")
    var dryRun = false

    @OptionGroup var lfs: LFSOptionGroup
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if branch != nil && revision != nil { throw ValidationError("give --branch or --revision, not both") }
    }

    func run() async throws {
        let client = global.makeClient()
        let target = directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if dryRun {
            let (url, options, lfsOptions) = (url, CloneOptions(branch: branch, revision: revision, bare: bare),
                                              lfs.options(enabled: !noLfs))
            try await DryRunOutput.run("clone", global: global) {
                try await client.planClone(url, into: target, options: options, lfs: lfsOptions)
            }
            return
        }
        let renderer = global.progressRenderer()
        let name = directory ?? ((try? RemoteURL(ShortNames.expand(url)).humanishName).map { $0 + (bare ? ".git" : "") } ?? "")
        if !name.isEmpty { global.say("Cloning into \(bare ? "bare repository " : "")'\(name)'...") }
        defer { renderer?.finish() }
        let options = CloneOptions(branch: branch, revision: revision, bare: bare)
        let lfsOptions = lfs.options(enabled: !noLfs)
        let (url, handler) = (url, renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("clone", {
            try await client.clone(url, into: target, options: options, lfs: lfsOptions, progress: handler, events: events)
        }, fill: { report, result in
            report.url = result.url
            report.directory = result.directory.path
            report.branch = result.branch
            report.head = result.head
            report.receivedObjects = result.receivedObjects
            report.receivedBytes = result.receivedBytes
            report.warnings = result.warnings.isEmpty ? nil : result.warnings
            report.setLFS(result.lfs)
        })
        renderer?.finish()
        for warning in result.warnings { global.say("warning: \(warning)") }
        try LFSReport.finish(result.lfs, options: global)
    }
}

extension CloneCommand: GlobalOptionsCommand {}
