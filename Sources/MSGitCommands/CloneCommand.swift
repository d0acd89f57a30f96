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

            The remote URL saved in .git/config never holds a token, even when the URL given here does.
            """)

    @Argument(help: "The repository URL, e.g. https://www.modelscope.cn/namespace/name.git.")
    var url: String

    @Argument(help: "The directory to clone into (default: the repository's name).")
    var directory: String?

    @Option(name: .shortAndLong, help: "Check out this branch (or tag) instead of the remote's HEAD.")
    var branch: String?

    @Flag(help: "Make a bare repository.")
    var bare = false

    @Flag(help: "Leave LFS files as pointers (fetch them later with 'msgit lfs pull').")
    var noLfs = false

    @OptionGroup var lfs: LFSOptionGroup

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let renderer = global.progressRenderer()
        let target = directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if !global.quiet {
            let name = directory ?? ((try? RemoteURL(url).humanishName).map { $0 + (bare ? ".git" : "") } ?? "")
            if !name.isEmpty {
                FileHandle.standardError.write(Data("Cloning into \(bare ? "bare repository " : "")'\(name)'...\n".utf8))
            }
        }
        defer { renderer?.finish() }
        let options = CloneOptions(branch: branch, bare: bare, lfs: lfs.options(enabled: !noLfs))
        let result = try await client.clone(url, into: target, options: options, progress: renderer?.handler)
        renderer?.finish()
        if !global.quiet {
            for warning in result.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
        }
        let status = LFSReport.finish(result.lfs, quiet: global.quiet)
        if status != ExitStatus.success { throw ExitCode(status) }
    }
}
