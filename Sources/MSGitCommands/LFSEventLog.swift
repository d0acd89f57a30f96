import Foundation
import MSGit
import Synchronization

/// Where the command line writes the per-file LFS events of an operation:
///
/// - `GIT_LFS_PROGRESS=<file>`, as git-lfs honours it (`tq/meter.go`): lines appended as
///   `<direction> <n>/<objects> <bytes>/<size> <path>` while an object moves, `n` its place in the
///   order objects were queued and `objects` how many were by then, named by the first of its files
///   (git-lfs transfers an object once, whatever number of files hold it); and, as `git lfs
///   checkout` writes them, `checkout <n>/<objects> <size>/<total size> <path>` as each file is put
///   in the work tree.
/// - `--lfs-events <file>`: one JSON object per event, for scripts: `{"direction":"download",
///   "path":"weights/a.bin","event":"queued","oid":"…","size":123}`, then `"bytes"` (`done`,
///   `total`), `"done"`, `"skipped"` (`reason`: `present` or `excluded`), `"failed"` (`reason`).
///
/// The handler runs on the events' own task (`LFSEvents`), one event at a time.
final class LFSEventLog: Sendable {
    private struct State {
        var progress: FileHandle?
        var json: FileHandle?
        /// oid -> its place in the queue, 1-based, and its size; path -> oid; oid -> its first path.
        var index: [String: (Int, Int64)] = [:]
        var oids: [String: String] = [:]
        var firstPath: [String: String] = [:]
        var queuedBytes: Int64 = 0
    }
    private let state: Mutex<State>

    /// Nil when neither is asked for. An unwritable file is an error naming it.
    static func make(jsonPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> LFSEventLog?
    {
        let progressPath = environment["GIT_LFS_PROGRESS"].flatMap { $0.isEmpty ? nil : $0 }
        guard progressPath != nil || jsonPath != nil else { return nil }
        return LFSEventLog(progress: try progressPath.map { try open($0, append: true) },
                           json: try jsonPath.map { try open($0, append: false) })
    }

    private init(progress: FileHandle?, json: FileHandle?) {
        state = Mutex(State(progress: progress, json: json))
    }

    private static func open(_ path: String, append: Bool) throws -> FileHandle {
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard fd >= 0 else {
            throw MSGitError(.invalidArgument, "cannot write the LFS event log '\(path)': \(String(cString: strerror(errno)))")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    var handler: LFSEventHandler {
        { [self] event in record(event) }
    }

    func record(_ event: LFSEvent) {
        state.withLock { s in
            if case .queued(let oid, let size) = event.kind {
                s.oids[event.path] = oid
                if s.index[oid] == nil {
                    s.index[oid] = (s.index.count + 1, size)
                    s.firstPath[oid] = event.path
                    let (sum, overflow) = s.queuedBytes.addingReportingOverflow(size)
                    s.queuedBytes = overflow ? .max : sum
                }
            }
            if let progress = s.progress, let line = Self.progressLine(event, s) {
                progress.write(Data((line + "\n").utf8))
            }
            if let json = s.json, let line = Self.jsonLine(event) {
                json.write(Data((line + "\n").utf8))
            }
        }
    }

    private static func progressLine(_ event: LFSEvent, _ s: State) -> String? {
        guard let oid = s.oids[event.path], let (n, size) = s.index[oid] else { return nil }
        switch event.kind {
        case .bytes(let done, let total) where s.firstPath[oid] == event.path:
            return "\(event.direction.rawValue) \(n)/\(s.index.count) \(done)/\(total) \(event.path)"
        case .done where event.direction == .download:
            return "checkout \(n)/\(s.index.count) \(size)/\(s.queuedBytes) \(event.path)"
        default:
            return nil
        }
    }

    private static func jsonLine(_ event: LFSEvent) -> String? {
        var object: [String: Any] = ["direction": event.direction.rawValue, "path": event.path]
        switch event.kind {
        case .queued(let oid, let size):
            object["event"] = "queued"
            object["oid"] = oid
            object["size"] = size
        case .bytes(let done, let total):
            object["event"] = "bytes"
            object["done"] = done
            object["total"] = total
        case .done:
            object["event"] = "done"
        case .skipped(let why):
            object["event"] = "skipped"
            object["reason"] = why.rawValue
        case .failed(let reason):
            object["event"] = "failed"
            object["reason"] = reason.redacted
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}
