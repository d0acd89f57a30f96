import ArgumentParser
import Foundation
import MSGit

/// A `DownloadPlan` as `--json` reports it (snake case, as the rest of the report).
struct PlanInfo: Encodable {
    struct File: Encodable {
        var path: String
        var oid: String
        var size: Int64
        /// download, from-store, present, left-alone, refused.
        var action: String
        var reason: String?
    }

    var gitBytes: UInt64
    var files: [File]
    var excluded: [String]
    var objectsToDownload: Int
    var bytesToDownload: Int64
    var bytesNeeded: Int64
    var bytesAvailable: Int64?
    var fits: Bool

    init(_ plan: DownloadPlan) {
        gitBytes = plan.gitBytes
        files = plan.lfs.files.map { file in
            let (action, reason) = Self.words(file.action)
            return File(path: file.path, oid: file.oid, size: file.size, action: action, reason: reason)
        }
        excluded = plan.lfs.excluded
        objectsToDownload = plan.lfs.objectsToDownload
        bytesToDownload = plan.lfs.bytesToDownload
        bytesNeeded = plan.lfs.bytesNeeded
        bytesAvailable = plan.lfs.bytesAvailable
        fits = plan.lfs.fits
    }

    static func words(_ action: WorkTreeFill.Preview.Action) -> (String, String?) {
        switch action {
        case .download: ("download", nil)
        case .fromStore: ("from-store", nil)
        case .present: ("present", nil)
        case .leftAlone: ("left-alone", nil)
        case .refused(let reason): ("refused", reason)
        }
    }
}

/// `--dry-run` of clone, pull and lfs pull: the plan on standard output, one file a line, then the
/// totals; or in the `--json` report. Nothing is downloaded or written to a work tree.
enum DryRunOutput {
    static func run(_ command: String, global: GlobalOptions,
                    _ work: @escaping @Sendable () async throws -> DownloadPlan) async throws {
        let plan = try await global.perform(command, work, fill: { report, plan in report.setPlan(plan) })
        guard !global.json else { return }
        var lines: [String] = []
        for file in plan.lfs.files {
            let (action, reason) = PlanInfo.words(file.action)
            var line = "\(action.padding(toLength: 11, withPad: " ", startingAt: 0)) \(file.path)"
            line += "  \(ProgressRenderer.bytes(UInt64(max(file.size, 0))))  \(file.oid.prefix(10))"
            if let reason { line += "  (\(reason))" }
            lines.append(line)
        }
        for path in plan.lfs.excluded { lines.append("excluded    \(path)") }
        let objects = plan.lfs.objectsToDownload
        var total = "\(objects) LFS object\(objects == 1 ? "" : "s") to download (\(ProgressRenderer.bytes(UInt64(max(plan.lfs.bytesToDownload, 0)))))"
        if plan.gitBytes > 0 { total += ", \(ProgressRenderer.bytes(plan.gitBytes)) of git objects" }
        total += "; needs \(ProgressRenderer.bytes(UInt64(max(plan.lfs.bytesNeeded, 0)))) on disk"
        if let available = plan.lfs.bytesAvailable {
            total += ", \(ProgressRenderer.bytes(UInt64(max(available, 0)))) free"
        }
        lines.append(total)
        if !plan.lfs.fits { lines.append("warning: that is more than the file system has free") }
        print(lines.joined(separator: "\n"))
    }
}
