import ArgumentParser
import Foundation
import MSGit

/// The directory a command runs in (msgit's -C has been applied).
private var currentDirectory: URL {
    URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
}

/// Prints `value` as one line of JSON, keys in snake case and sorted.
private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A client for commands that never leave the machine.
private let localClient = GitClient(credentials: NoCredentials(), writeCredentials: nil)

struct LFSPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete LFS objects nothing needs from .git/lfs/objects, as git lfs prune does.",
        discussion: """
            Kept: the objects of every reference's tip (branches, remote branches, tags), of HEAD, of the \
            index, and of every commit of a local branch that no remote branch has (unpushed work, whose \
            objects may exist nowhere else). The rest is deleted; a shared store (--lfs-storage) keeps its \
            copy.
            """)

    @Flag(name: .shortAndLong, help: "Only say what would be deleted.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let result = try await localClient.lfsPrune(in: currentDirectory, dryRun: dryRun)
        if json { return try printJSON(result) }
        let verb = dryRun ? "would delete" : "deleted"
        print("prune: \(verb) \(result.removed.count) object\(result.removed.count == 1 ? "" : "s") "
            + "(\(ProgressRenderer.bytes(UInt64(max(result.removedBytes, 0))))), kept \(result.kept)")
        if dryRun { for oid in result.removed { print("  \(oid)") } }
    }
}

struct LFSFsckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Verify every LFS object and every LFS file of the work tree.",
        discussion: """
            Each object in .git/lfs/objects must hash (SHA-256, size) to its name, and each LFS file of \
            HEAD in the work tree must be its pointer or exactly its object. Exits 1 naming each that is \
            not; changes nothing.
            """)

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let result = try await localClient.lfsFsck(in: currentDirectory)
        if json {
            try printJSON(result)
        } else if result.problems.isEmpty {
            print("fsck: \(result.objectsChecked) objects and \(result.filesChecked) files OK")
        } else {
            for problem in result.problems {
                FileHandle.standardError.write(Data("\(problem.kind) \(problem.name): \(problem.reason)\n".utf8))
            }
        }
        if !result.problems.isEmpty { throw ExitCode(ExitStatus.failure) }
    }
}

struct LFSDiskUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "du",
        abstract: "Show the bytes of the LFS store, of the work tree's LFS files, and those they share.")

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let usage = try await localClient.lfsDiskUsage(in: currentDirectory)
        if json { return try printJSON(usage) }
        func size(_ n: Int64) -> String { ProgressRenderer.bytes(UInt64(max(n, 0))) }
        print("store:     \(size(usage.storeBytes))")
        print("work tree: \(size(usage.workTreeBytes))")
        print("shared:    \(size(usage.sharedBytes)) (on disk once)")
        print("on disk:   \(size(usage.storeBytes + usage.workTreeBytes - usage.sharedBytes))")
    }
}

struct LFSUnprotectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unprotect",
        abstract: "Make LFS files that --link made read-only links into files of their own you may edit.",
        discussion: """
            Each file becomes a copy of its object (a copy-on-write clone where the file system can \
            make one) with the owner's write permission; the stored object stays as it was, read-only.
            """)

    @Argument(help: "The files to unprotect.")
    var paths: [String]

    func run() async throws {
        let changed = try await localClient.lfsUnprotect(paths, in: currentDirectory)
        for path in changed { print("unprotected \(path)") }
    }
}
