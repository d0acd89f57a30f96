import ArgumentParser
import Foundation
import MSGit

struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Keep bare mirrors of many repositories, with their LFS objects, in sync.",
        discussion: """
            Each repository of the manifest becomes <into>/<host>/<namespace>/<name>.git: a bare mirror \
            with every ref exactly as the source has it (deleted refs pruned) and, with --lfs all (the \
            default), every LFS object reachable from any ref in its lfs/objects, verified; --lfs head \
            takes only the default branch's tip. Reruns transfer only what is new; a run that was killed \
            is finished by the next; a repository another run is working on is skipped (busy).

            One repository failing does not stop the others. Each gets a line in the report (JSON lines); \
            msgit exits 0 only if all succeeded.

            --shard I/N (0 <= I < N) mirrors a stable subset chosen by a hash of each URL, so a scheduler \
            (Kubernetes Indexed Jobs, CI matrices, Slurm arrays) can run N processes that together cover \
            the manifest exactly once.
            """)

    @Option(help: ArgumentHelp("One repository per line (URL or namespace/name); # comments and blank lines allowed.",
                               valueName: "file"))
    var manifest: String

    @Option(help: ArgumentHelp("The directory that holds the mirrors.", valueName: "dir"))
    var into: String

    @Option(name: [.short, .long], help: "Repositories at once.")
    var jobs = 4

    @Option(help: "LFS objects to keep: all (every ref, history included), head, none.")
    var lfs: MirrorOptions.LFSScope = .all

    @Option(help: ArgumentHelp("Write one JSON line per repository to this file.", valueName: "file.jsonl"))
    var report: String?

    @Option(help: ArgumentHelp("Push each mirror (refs and LFS objects) to this URL; {host}, {ns} and {name} are replaced.",
                               valueName: "url-template"))
    var pushTo: String?

    @Option(help: ArgumentHelp("Keep the mirrors' LFS objects once, here, linked into each mirror (default: "
                               + "<into>/.lfs-storage; 'none': each mirror keeps its own).", valueName: "dir"))
    var lfsStorage: String?

    @Option(help: ArgumentHelp("Mirror only shard I of N (0 <= I < N).", valueName: "I/N"))
    var shard: Shard?

    @Option(help: ArgumentHelp("Base URL for namespace/name lines (default: MSGIT_ENDPOINT, else ModelScope).",
                               valueName: "url"))
    var baseURL: String?

    @Flag(help: ArgumentHelp("Show, per repository, the refs that would change and the LFS objects and bytes that would be "
                             + "downloaded, and change no mirror (each history is fetched into a temporary repository that "
                             + "borrows the mirror's objects)."))
    var dryRun = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() async throws {
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
            throw MSGitError(.invalidArgument, "cannot read the manifest '\(manifest)'")
        }
        var entries = Manifest(text, baseURL: baseURL)
        if let shard {
            entries.entries = entries.shard(shard.index, of: shard.count)
        }
        let client = global.makeClient()
        let options = MirrorOptions(lfs: lfs, pushTo: pushTo,
                                    lfsStorage: lfsStorage.flatMap { $0 == "none" ? nil : URL(fileURLWithPath: $0) },
                                    sharedLFSStorage: lfsStorage != "none")
        let reportFile = try report.map(ReportFile.init)
        let root = URL(fileURLWithPath: into, isDirectory: true)
        if dryRun {
            let (list, jobs) = (entries.entries, jobs)
            let plans = try await withInterrupts { await client.planMirror(list, into: root, jobs: jobs, options: options) }
            try MirrorPlanLine.show(plans.sorted { $0.url < $1.url }, global: global, report: reportFile)
            return
        }
        global.say("Mirroring \(entries.entries.count) repositories into \(root.path)")
        let (list, jobs, humanOutput) = (entries.entries, jobs, global.humanOutput)
        let results = try await withInterrupts {
            await client.mirror(list, into: root, jobs: jobs, options: options) { result in
                reportFile?.append(result)
                if humanOutput {
                    let status = MirrorReportLine.word(result.status)
                    var line = "\(status.padding(toLength: 14, withPad: " ", startingAt: 0)) \(result.url)"
                    line += "  refs \(result.refsChanged), LFS \(result.lfsObjects) (\(ProgressRenderer.bytes(UInt64(max(result.lfsBytes, 0))))),"
                    line += " \(String(format: "%.1f", result.duration.reportSeconds)) s"
                    if let error = result.error?.description {
                        line += "\n    \(error.replacingOccurrences(of: "\n", with: "\n    "))"
                    }
                    FileHandle.standardError.write(Data((line + "\n").redacted.utf8))
                }
            }
        }
        let failed = results.filter { $0.status != .mirrored }
        global.say("\(results.count - failed.count) of \(results.count) repositories mirrored")
        if global.json {
            for result in results.sorted(by: { $0.url < $1.url }) {
                if let line = MirrorReportLine(result).json() { print(line) }
            }
        }
        if !failed.isEmpty { throw ExitCode(ExitStatus.failure) }
    }
}

extension MirrorOptions.LFSScope: ExpressibleByArgument {}

extension MirrorCommand: GlobalOptionsCommand {}
