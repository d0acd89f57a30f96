import ArgumentParser
import Foundation
import MSGit

/// One line of `mirror --dry-run --json` (and of its `--report`): what mirroring one repository
/// would fetch, for a scheduler sizing its jobs.
struct MirrorPlanLine: Encodable {
    var url: String
    var path: String?
    /// "ok", or "failed" with `error`.
    var status: String
    var refsChanged: Int
    var gitBytes: UInt64
    var lfsObjectsToDownload: Int
    var lfsBytesToDownload: Int64
    var lfsObjectsPresent: Int
    var bytesNeeded: Int64
    var bytesAvailable: Int64?
    var fits: Bool
    var error: String?
    var errorKind: String?

    init(_ plan: MirrorPlan) {
        url = plan.url
        path = plan.path?.path
        status = plan.error == nil ? "ok" : "failed"
        refsChanged = plan.refsChanged
        gitBytes = plan.plan?.gitBytes ?? 0
        lfsObjectsToDownload = plan.plan?.lfs.objectsToDownload ?? 0
        lfsBytesToDownload = plan.plan?.lfs.bytesToDownload ?? 0
        lfsObjectsPresent = plan.plan?.lfs.files.filter { $0.action == .fromStore }.count ?? 0
        bytesNeeded = plan.plan?.lfs.bytesNeeded ?? 0
        bytesAvailable = plan.plan?.lfs.bytesAvailable
        fits = plan.plan?.lfs.fits ?? true
        error = plan.error?.description
        errorKind = plan.error?.kind.rawValue
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self).redacted } ?? "{\"status\":\"failed\"}"
    }

    /// Each plan as a line (JSON with `--json`, and always in the report file), then the totals;
    /// exits 1 if any repository could not be planned.
    static func show(_ plans: [MirrorPlan], global: GlobalOptions, report: ReportFile?) throws {
        var (objects, bytes, needed) = (0, Int64(0), Int64(0))
        for plan in plans {
            let line = MirrorPlanLine(plan)
            report?.append(line: line.json)
            objects += line.lfsObjectsToDownload
            bytes += line.lfsBytesToDownload
            needed += line.bytesNeeded
            if global.json {
                print(line.json)
            } else if !global.quiet {
                var text = "\(line.status == "ok" ? "plan  " : "failed") \(line.url)"
                if let error = line.error {
                    text += "\n    \(error.replacingOccurrences(of: "\n", with: "\n    "))"
                } else {
                    text += "  refs \(line.refsChanged), LFS \(line.lfsObjectsToDownload) objects to download "
                        + "(\(ProgressRenderer.bytes(UInt64(max(line.lfsBytesToDownload, 0))))), \(line.lfsObjectsPresent) present"
                }
                print(text.redacted)
            }
        }
        if !global.json && !global.quiet {
            print("\(plans.count) repositories: \(objects) LFS objects to download "
                + "(\(ProgressRenderer.bytes(UInt64(max(bytes, 0))))); needs \(ProgressRenderer.bytes(UInt64(max(needed, 0)))) on disk")
        }
        if plans.contains(where: { $0.error != nil }) { throw ExitCode(ExitStatus.failure) }
    }
}
