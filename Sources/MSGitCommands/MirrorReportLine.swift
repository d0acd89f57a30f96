import Foundation
import MSGit

/// One line of `mirror`'s JSON report (`--report`, `--json`): a `MirrorResult` in the report's
/// words, snake_case as the report has always been written.
struct MirrorReportLine: Encodable {
    var url: String
    var path: String?
    var status: String
    var refsChanged: Int
    var lfsObjects: Int
    var lfsBytes: Int64
    var lfsFailures: [LFSFailure]?
    var pushedTo: String?
    var durationSeconds: Double
    var error: String?
    var errorKind: String?

    enum CodingKeys: String, CodingKey {
        case url, path, status, refsChanged = "refs_changed", lfsObjects = "lfs_objects", lfsBytes = "lfs_bytes"
        case lfsFailures = "lfs_failures", pushedTo = "pushed_to", durationSeconds = "duration_seconds", error
        case errorKind = "error_kind"
    }

    init(_ result: MirrorResult) {
        url = result.url
        path = result.path?.path
        status = Self.word(result.status)
        refsChanged = result.refsChanged
        lfsObjects = result.lfsObjects
        lfsBytes = result.lfsBytes
        lfsFailures = result.lfsFailures.isEmpty ? nil : result.lfsFailures
        pushedTo = result.pushedTo
        durationSeconds = result.duration.reportSeconds
        error = result.error?.description
        errorKind = result.status == .failed ? result.error?.kind.rawValue : nil
    }

    /// The status as the report and the human lines spell it.
    static func word(_ status: MirrorResult.Status) -> String {
        switch status {
        case .mirrored: "ok"
        case .lfsIncomplete: "lfs-incomplete"
        case .failed: "failed"
        case .busy: "busy"
        }
    }

    /// The line as JSON, keys sorted, tokens masked.
    func json() -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self).redacted }
    }
}
