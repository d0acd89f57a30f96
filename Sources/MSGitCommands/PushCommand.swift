import ArgumentParser
import Foundation
import MSGit

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Update remote refs along with the objects they need.",
        discussion: """
            With no refspec, the current branch is pushed to the branch of the same name. A refspec is \
            [+]<src>[:<dst>]; '+' forces a non-fast-forward update and ':<dst>' deletes <dst>.

            LFS objects of the commits the remote does not have are uploaded first, as git-lfs's \
            pre-push hook does; one that is neither here nor on the server stops the push, naming the \
            file and commit, before any ref is sent.
            """)

    @Argument(help: "The remote name or URL (default: as git chooses: branch.<name>.pushRemote, remote.pushDefault, branch.<name>.remote, else origin).")
    var remote: String?

    @Argument(help: "What to push, e.g. main, HEAD:refs/heads/main, +feature, :old-branch.")
    var refspecs: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let (remote, refspecs, handler) = (remote, refspecs, renderer?.handler)
        let events = try global.lfsEventHandler()
        let result = try await global.perform("push", {
            try await client.push(in: directory, remote: remote, refspecs: refspecs, progress: handler, events: events)
        }, fill: { report, result in
            report.url = result.url
            report.directory = directory.path
            report.pushedObjects = result.pushedObjects
            report.pushedBytes = result.pushedBytes
            report.refs = JSONReport.changes(result.updatedRefs)
            report.lfsUploadedObjects = result.lfsUploadedObjects
            report.lfsUploadedBytes = result.lfsUploadedBytes
        })
        renderer?.finish()
        if result.lfsUploadedObjects > 0 {
            global.say("LFS: uploaded \(result.lfsUploadedObjects) objects (\(ProgressRenderer.bytes(UInt64(result.lfsUploadedBytes))))")
        }
        global.say("To \(result.url)\n" + result.refspecs.map { "   \($0)" }.joined(separator: "\n"))
    }
}

extension PushCommand: GlobalOptionsCommand {}
