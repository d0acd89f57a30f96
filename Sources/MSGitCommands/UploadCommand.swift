import ArgumentParser
import Foundation
import MSGit

struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Publish a local folder to a repository as one commit, without git or git-lfs.",
        discussion: """
            Files matching the repository's filter=lfs patterns (.gitattributes), and files larger \
            than --lfs-threshold, are stored in Git LFS and committed as pointers (a pattern is added to \
            .gitattributes for each file over the threshold); the rest as ordinary files. LFS objects \
            are uploaded first, then the commit is pushed. Only the branch's history is fetched, never \
            the LFS content already there. If the branch moves while uploading, nothing is overwritten.
            """)

    @Argument(help: "The repository URL or short name (namespace/name).")
    var url: String

    @Argument(help: "The folder to publish.")
    var folder: String

    @Option(help: ArgumentHelp("Where the folder goes in the repository (default: the root).", valueName: "dir"))
    var pathInRepo = ""

    @Option(name: [.customShort("m"), .long], help: "The commit message.")
    var message: String?

    @Option(name: [.short, .long], help: "The branch to commit to (default: the repository's default branch).")
    var branch: String?

    @Option(help: ArgumentHelp("Store files larger than this in LFS (bytes, or with KB/MB/GB/KiB/MiB/GiB).",
                               valueName: "size"))
    var lfsThreshold = Size(bytes: 1 << 20, description: "1MiB")

    @Option(name: [.short, .long], help: "Hashing and uploads at once.")
    var jobs = 8

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() async throws {
        let client = global.makeClient()
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let options = UploadOptions(pathInRepo: pathInRepo, message: message, branch: branch,
                                    lfsThreshold: lfsThreshold.bytes, jobs: jobs)
        let (url, folder, handler) = (url, URL(fileURLWithPath: folder, isDirectory: true), renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("upload", {
            try await client.upload(folder: folder, to: url, options: options, progress: handler, events: events)
        }, fill: { report, result in
            report.url = result.url
            report.branch = result.branch
            report.head = result.commit
            report.upload = .init(files: result.files, lfsFiles: result.lfsFiles, parent: result.parent,
                                  attributesChanged: result.attributesChanged, lfsUploadedObjects: result.lfsUploadedObjects,
                                  lfsUploadedBytes: result.lfsUploadedBytes)
        })
        renderer?.finish()
        global.say("Uploaded \(result.files) files (\(result.lfsFiles) in LFS, \(result.lfsUploadedObjects) objects sent) "
            + "to \(result.url) \(result.branch) as \(result.commit.prefix(12))")
    }

}

extension UploadCommand: GlobalOptionsCommand {}
