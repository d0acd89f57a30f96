import Foundation
import LFS
import Synchronization

/// Where an operation is, for a progress display. A value: handlers may keep it.
///
/// A clone's LFS downloads start with its checkout: while `phase` is `.checkingOut`, the `lfs`
/// counters may already grow; the phase becomes `.lfs` when the checkout is done.
public struct TransferProgress: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable {
        case connecting, receivingObjects, resolvingDeltas, checkingOut, pushing, lfs, done
    }

    public var phase: Phase = .connecting
    public var receivedObjects = 0
    public var indexedObjects = 0
    public var totalObjects = 0
    public var receivedBytes: UInt64 = 0
    public var indexedDeltas = 0
    public var totalDeltas = 0
    public var checkedOutFiles = 0
    public var totalFiles = 0
    public var pushedObjects = 0
    public var totalPushObjects = 0
    public var pushedBytes: UInt64 = 0
    public var lfsObjectsDone = 0
    public var lfsObjectsTotal = 0
    public var lfsBytesDone: UInt64 = 0
    public var lfsBytesTotal: UInt64 = 0

    public init() {}
}

public typealias ProgressHandler = @Sendable (TransferProgress) -> Void

/// Holds the current progress and forwards it to the handler at most every `interval`, and always
/// on a change of phase, so a handler that draws is not called thousands of times a second.
final class ProgressReporter: Sendable {
    private struct State {
        var progress = TransferProgress()
        var lastSent: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let handler: ProgressHandler?
    private let interval: Duration

    init(_ handler: ProgressHandler?, interval: Duration = .milliseconds(100)) {
        self.handler = handler
        self.interval = interval
    }

    var current: TransferProgress { state.withLock { $0.progress } }

    /// Applies `change`. The state is kept whether or not there is a handler: results are read
    /// from it (a push's object and byte counts).
    func update(_ change: (inout TransferProgress) -> Void) {
        let toSend: TransferProgress? = state.withLock { state in
            let phase = state.progress.phase
            change(&state.progress)
            guard handler != nil else { return nil }
            let now = ContinuousClock.now
            if state.progress.phase != phase || state.lastSent.map({ now - $0 >= interval }) ?? true {
                state.lastSent = now
                return state.progress
            }
            return nil
        }
        if let toSend { handler?(toSend) }
    }

    /// The LFS phase's counters, from the LFS layer's progress.
    func updateLFS(_ p: LFSProgress) {
        update {
            // A clone's LFS pass starts with its checkout (`EarlyFill`), whose phase it keeps.
            if $0.phase != .checkingOut { $0.phase = .lfs }
            $0.lfsObjectsDone = p.objectsDone
            $0.lfsObjectsTotal = p.objectsTotal
            $0.lfsBytesDone = UInt64(max(p.bytesDone, 0))
            $0.lfsBytesTotal = UInt64(max(p.bytesTotal, 0))
        }
    }

    /// Sends the final state whatever the throttle says.
    func finish(_ change: (inout TransferProgress) -> Void = { _ in }) {
        let final = state.withLock { state in
            change(&state.progress)
            state.lastSent = .now
            return state.progress
        }
        handler?(final)
    }
}
