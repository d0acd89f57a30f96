import CoreMetrics
import Foundation
import Synchronization

/// Progress of LFS transfers: objects and bytes done of the total (an object several files share
/// moves once; `LFSEvent`s name the files).
public struct LFSProgress: Sendable, Equatable {
    /// Objects moved so far; one that was already in place is in neither count.
    public var objectsDone = 0
    /// Objects to move; one that fails leaves the total.
    public var objectsTotal = 0
    /// Bytes moved so far; retried bytes count once.
    public var bytesDone: Int64 = 0
    /// Bytes of the objects to move; a failed object's leave it.
    public var bytesTotal: Int64 = 0
    /// Nothing to move yet.
    public init() {}
}

/// Counts a run of transfers, in all (`LFSProgress`, the snapshot) and per file (`LFSEvent`s, told
/// to every path of an object), as git-lfs's `tq.Meter` does per name. Objects are what move;
/// files are what the events name.
public final class TransferMeter: Sendable {
    private struct State {
        var progress = LFSProgress()
        /// oid -> bytes of it moved so far (at most its size: a retry does not count twice).
        var done: [String: Int64] = [:]
    }
    private let state = Mutex(State())
    private let sink: (@Sendable (LFSProgress) -> Void)?
    private let events: LFSEvents?
    /// oid -> the paths its events name.
    private let paths: [String: [String]]
    /// Whether the objects go down or up; the `direction` label of the metrics and of the events.
    public let direction: LFSEvent.Direction
    /// Whether an object in place (in the store, on the server) is its files' `done`; a pass that
    /// puts the files in a work tree tells `queued`, `skipped` and `done` itself, as it sees the
    /// files.
    private let objectIsDone: Bool
    /// For a service's metrics backend (`msgit_lfs_bytes_total`, `msgit_lfs_objects_total`).
    private let bytesMoved: Counter
    private let objectsMoved: Counter
    private let objectsFailed: Counter

    /// A meter for transfers in `direction`. `paths` maps each oid to the files that hold it, which its
    /// events name; `objectIsDone` says whether an object in place is its files' `done` (false for a
    /// fill, which tells its files' events itself). `progress` gets every change of the totals,
    /// synchronously, from the transfer's task.
    public init(_ direction: LFSEvent.Direction, paths: [String: [String]] = [:], objectIsDone: Bool = true,
                events: LFSEvents? = nil, progress: (@Sendable (LFSProgress) -> Void)? = nil) {
        self.direction = direction
        self.paths = paths
        self.objectIsDone = objectIsDone
        self.events = events
        sink = progress
        bytesMoved = Counter(label: "msgit_lfs_bytes_total", dimensions: [("direction", direction.rawValue)])
        objectsMoved = Counter(label: "msgit_lfs_objects_total", dimensions: [("direction", direction.rawValue), ("outcome", "done")])
        objectsFailed = Counter(label: "msgit_lfs_objects_total",
                                dimensions: [("direction", direction.rawValue), ("outcome", "failed")])
    }

    /// The objects to move: their files are queued, and the totals sent.
    func begin(_ pointers: [Pointer]) {
        let snapshot = state.withLock { s -> LFSProgress in
            s.progress.objectsTotal += pointers.count
            s.progress.bytesTotal = s.progress.bytesTotal.saturatingAdd(pointers.map(\.size).saturatingSum())
            return s.progress
        }
        if objectIsDone {
            for pointer in pointers { tell(pointer, .queued(oid: pointer.oid, size: pointer.size)) }
        }
        sink?(snapshot)
    }

    func bytes(_ pointer: Pointer, _ delta: Int64) {
        let (snapshot, done, counted) = state.withLock { s -> (LFSProgress, Int64, Int64) in
            let before = s.done[pointer.oid, default: 0]
            let after = min(pointer.size, before.saturatingAdd(delta))
            s.done[pointer.oid] = after
            s.progress.bytesDone = s.progress.bytesDone.saturatingAdd(after - before)
            return (s.progress, after, after - before)
        }
        sink?(snapshot)
        if counted > 0 { bytesMoved.increment(by: counted) }
        tell(pointer, .bytes(done: done, total: pointer.size))
    }

    func objectDone(_ pointer: Pointer) {
        let snapshot = state.withLock { s -> LFSProgress in
            s.progress.objectsDone += 1
            return s.progress
        }
        sink?(snapshot)
        objectsMoved.increment()
        if objectIsDone { tell(pointer, .done) }
    }

    /// A failed object leaves the totals, so "done of total" can still reach the end.
    func objectFailed(_ pointer: Pointer, reason: String) {
        let snapshot = state.withLock { s -> LFSProgress in
            s.progress.objectsTotal -= 1
            let moved = s.done[pointer.oid, default: 0]
            s.progress.bytesTotal = max(0, s.progress.bytesTotal.saturatingSubtract(pointer.size))
            s.progress.bytesDone = max(0, s.progress.bytesDone.saturatingSubtract(moved))
            return s.progress
        }
        sink?(snapshot)
        objectsFailed.increment()
        tell(pointer, .failed(reason: reason))
    }

    /// Objects that need no transfer (in the store already, on the server already).
    func skipped(_ pointer: Pointer) {
        if objectIsDone { tell(pointer, .skipped(.present)) }
    }

    /// An event of one file (`path`), for a caller that acts on files itself (places them).
    public func tell(_ path: String, _ kind: LFSEvent.Kind) {
        events?.emit(LFSEvent(direction, path, kind))
    }

    private func tell(_ pointer: Pointer, _ kind: LFSEvent.Kind) {
        guard let events else { return }
        for path in paths[pointer.oid] ?? [] { events.emit(LFSEvent(direction, path, kind)) }
    }
}
