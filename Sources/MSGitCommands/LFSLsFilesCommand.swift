import ArgumentParser
import Foundation
import MSGit

struct LFSLsFilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls-files",
        abstract: "List the LFS files of a revision, as git lfs ls-files does.",
        discussion: """
            One line per LFS file of the revision's tree (default HEAD): the first 10 digits of its \
            oid, '*' when the work tree holds its content or '-' when it holds the pointer, and the \
            path. --json prints git-lfs's JSON, with 'checkout' (content in the work tree) and \
            'downloaded' (object in .git/lfs/objects) for each file. Nothing leaves the machine.
            """)

    @Argument(help: "The revision whose tree to list (default: HEAD).")
    var revision = "HEAD"

    @Flag(name: .shortAndLong, help: "Show the whole oid.")
    var long = false

    @Flag(name: .shortAndLong, help: "Show each file's size too.")
    var size = false

    @Flag(name: .shortAndLong, help: "Show only the paths.")
    var nameOnly = false

    @Flag(help: "Print git-lfs's JSON ({\"files\": [...]}).")
    var json = false

    func run() async throws {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let files = try await GitClient(credentials: NoCredentials(), writeCredentials: nil)
            .lfsFiles(in: directory, revision: revision)
        if json {
            struct Listing: Encodable { var files: [LFSFileEntry] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Listing(files: files)), as: UTF8.self))
            return
        }
        for file in files {
            var line = nameOnly ? file.name : file.line(long: long)
            if size { line += " (\(Self.humanSize(file.size)))" }
            print(line)
        }
    }

    /// Sizes as git-lfs prints them (its humanize.FormatBytes): powers of 1000, rounded to a tenth,
    /// one decimal below 10 ("3.1 MB", "512 KB", "7 B").
    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var exponent = 0
        while exponent < units.count - 1, Double(bytes) >= pow(1000, Double(exponent + 1)) { exponent += 1 }
        let unit = pow(1000, Double(exponent))
        let rounded = bytes < 10 ? Double(bytes) : ((Double(bytes) / unit * 10 + 0.5).rounded(.down)) / 10
        let number = rounded < 10 && exponent > 0 ? String(format: "%.1f", rounded) : String(format: "%.0f", rounded)
        return "\(number) \(units[exponent])"
    }
}
