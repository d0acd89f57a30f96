import Foundation
import MSGit

/// The one JSON object `--json` prints on standard output: the outcome, counts, bytes, duration and
/// per-file LFS failures, or the error. Everything in it has passed through the `Redactor`.
struct JSONReport: Encodable {
    struct RefChange: Encodable {
        var ref: String
        var old: String?
        var new: String?
    }
    struct ErrorInfo: Encodable {
        var kind: String
        var message: String
        var hint: String?
        var serverMessage: String?
        var rejectedRefs: [RefRejectionInfo]?
    }
    struct UploadInfo: Encodable {
        var files: Int
        var lfsFiles: Int
        var parent: String?
        var attributesChanged: Bool
        var lfsUploadedObjects: Int
        var lfsUploadedBytes: Int64
    }
    struct RefRejectionInfo: Encodable {
        var ref: String
        var reason: String
    }

    var command: String
    /// "ok", "lfs-incomplete" (git succeeded, some LFS files stay pointers) or "error".
    var status = "ok"
    var exitCode: Int32 = 0
    var url: String?
    var directory: String?
    var branch: String?
    var head: String?
    var previousHead: String?
    var upToDate: Bool?
    var createdBranch: String?
    var upstream: String?
    var ahead: Int?
    var behind: Int?
    var files: [FileStatus]?
    var lfsPointers: [String]?
    var receivedObjects: Int?
    var receivedBytes: UInt64?
    var pushedObjects: Int?
    var pushedBytes: UInt64?
    var refs: [RefChange]?
    var lfs: LFSSummary?
    var lfsUploadedObjects: Int?
    var lfsUploadedBytes: Int64?
    var upload: UploadInfo?
    var access: AccessReport?
    /// What a `--dry-run` would download and write.
    var plan: PlanInfo?
    var durationSeconds = 0.0
    var warnings: [String]?
    var error: ErrorInfo?

    init(command: String) {
        self.command = command
    }

    mutating func fail(_ error: MSGitError) {
        status = "error"
        exitCode = ExitStatus.code(for: error)
        self.error = ErrorInfo(
            kind: error.kind.rawValue, message: error.message, hint: error.hint, serverMessage: error.serverMessage,
            rejectedRefs: error.rejectedRefs.isEmpty ? nil
                : error.rejectedRefs.map { RefRejectionInfo(ref: $0.reference, reason: $0.reason) })
    }

    mutating func setLFS(_ summary: LFSSummary) {
        lfs = summary
        if !summary.failures.isEmpty {
            status = "lfs-incomplete"
            exitCode = ExitStatus.lfsIncomplete
        }
    }

    mutating func setPlan(_ plan: DownloadPlan) {
        url = plan.url
        head = plan.commit
        self.plan = PlanInfo(plan)
    }

    static func changes(_ updates: [ReferenceChange]) -> [RefChange] {
        updates.map { RefChange(ref: $0.reference, old: $0.old, new: $0.new) }
    }

    /// The report as printed: one line of JSON, keys in snake case and sorted, secrets masked.
    var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(self)) ?? Data("{\"status\":\"error\"}".utf8)
        return String(decoding: data, as: UTF8.self).redacted
    }

    func print() {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

extension GlobalOptions {
    /// Runs a command's work with Ctrl-C handling, then prints its JSON report when asked: on
    /// success, `fill` completes the report from the result; on failure the report carries the error.
    func perform<T: Sendable>(_ command: String, _ work: @escaping @Sendable () async throws -> T,
                              fill: (inout JSONReport, T) -> Void) async throws -> T {
        let start = ContinuousClock.now
        var report = JSONReport(command: command)
        do {
            let result = try await withInterrupts(work)
            if json {
                fill(&report, result)
                report.durationSeconds = (ContinuousClock.now - start).reportSeconds
                report.print()
            }
            return result
        } catch {
            let failure = (error as? MSGitError) ?? (error is CancellationError ? MSGitError(.cancelled, "cancelled")
                : MSGitError(.git, "\(error)"))
            if json {
                report.fail(failure)
                report.durationSeconds = (ContinuousClock.now - start).reportSeconds
                report.print()
            }
            throw failure
        }
    }
}
