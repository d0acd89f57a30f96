import ArgumentParser
import Foundation
import MSGit

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download objects and refs from a remote.")

    @Argument(help: "The remote name or URL (default: the current branch's remote, else origin).")
    var remote: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let renderer = global.progressRenderer()
        defer { renderer?.finish() }
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let (remote, handler) = (remote, renderer?.handler)
        let result = try await global.perform("fetch", {
            try await client.fetch(in: directory, remote: remote, progress: handler)
        }, fill: { report, result in
            report.url = result.url
            report.directory = directory.path
            report.receivedObjects = result.receivedObjects
            report.receivedBytes = result.receivedBytes
            report.refs = JSONReport.changes(result.updatedRefs)
        })
        renderer?.finish()
        if !result.updatedRefs.isEmpty {
            global.say("From \(result.url)\n" + result.updatedRefs.map { "   " + RefUpdateFormat.line($0) }.joined(separator: "\n"))
        }
    }
}

extension FetchCommand: GlobalOptionsCommand {}
