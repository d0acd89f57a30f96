import Foundation
import Synchronization

/// Progress of LFS transfers: files and bytes done of the total.
public struct LFSProgress: Sendable, Equatable {
    public var filesDone = 0
    public var filesTotal = 0
    public var bytesDone: Int64 = 0
    public var bytesTotal: Int64 = 0
    public init() {}
}

/// Counts files and bytes across concurrent downloads and forwards the totals.
final class ProgressTracker: Sendable {
    private let state: Mutex<LFSProgress>
    private let sink: (@Sendable (LFSProgress) -> Void)?

    init(files: Int, bytes: Int64, sink: (@Sendable (LFSProgress) -> Void)?) {
        var initial = LFSProgress()
        initial.filesTotal = files
        initial.bytesTotal = bytes
        state = Mutex(initial)
        self.sink = sink
    }

    func send() { sink?(state.withLock { $0 }) }

    func bytes(_ delta: Int64) {
        sink?(state.withLock { $0.bytesDone = $0.bytesDone.saturatingAdd(delta); return $0 })
    }

    func fileDone(_ pointer: Pointer) {
        sink?(state.withLock { $0.filesDone += 1; return $0 })
    }

    /// A failed file leaves the totals, so "done of total" can still reach the end.
    func fileFailed(_ pointer: Pointer) {
        sink?(state.withLock {
            $0.filesTotal -= 1
            $0.bytesTotal = max(0, $0.bytesTotal.saturatingSubtract(pointer.size))
            return $0
        })
    }
}
