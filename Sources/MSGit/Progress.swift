import Foundation
import LFS
import Synchronization

/// Where an operation is, for a progress display. A value: handlers may keep it.
///
/// A clone's LFS downloads start with its checkout: while `phase` is `.checkingOut`, the `lfs`
/// counters may already grow; the phase becomes `.lfs` when the checkout is done.
public struct TransferProgress: Sendable, Equatable {
    /// What the operation is doing now. An operation goes through the phases that apply to it, in this
    /// order; the raw values are what `--json` reports print.
    ///
    /// - `connecting`: before the first object arrives (credentials, the reference advertisement).
    /// - `receivingObjects`: the pack is coming; `receivedObjects` of `totalObjects`.
    /// - `resolvingDeltas`: every object is in, deltas are being resolved; `indexedDeltas` of
    ///   `totalDeltas`.
    /// - `checkingOut`: files are being written into the work tree; `checkedOutFiles` of `totalFiles`.
    ///   A clone's LFS counters may move already.
    /// - `pushing`: a push is sending its pack; `pushedObjects` of `totalPushObjects`.
    /// - `lfs`: LFS objects are moving, down or up; the `lfs` counters.
    /// - `done`: the operation ended; sent once, last.
    public enum Phase: String, Sendable, Codable {
        case connecting, receivingObjects, resolvingDeltas, checkingOut, pushing, lfs, done
    }

    /// What the operation is doing now.
    public var phase: Phase = .connecting
    /// Git objects received so far.
    public var receivedObjects = 0
    /// Of those, the objects indexed (hashed and stored).
    public var indexedObjects = 0
    /// Git objects the server is sending; 0 until it says.
    public var totalObjects = 0
    /// Bytes of git's pack received so far.
    public var receivedBytes: UInt64 = 0
    /// Deltas resolved so far.
    public var indexedDeltas = 0
    /// Deltas the pack holds; 0 until they are counted.
    public var totalDeltas = 0
    /// Files written into the work tree so far.
    public var checkedOutFiles = 0
    /// Files the checkout writes.
    public var totalFiles = 0
    /// Git objects a push has sent so far.
    public var pushedObjects = 0
    /// Git objects a push sends.
    public var totalPushObjects = 0
    /// Bytes of a push's pack sent so far.
    public var pushedBytes: UInt64 = 0
    /// LFS objects moved so far, down or up; objects already in place are in neither count.
    public var lfsObjectsDone = 0
    /// LFS objects the operation moves; one that fails leaves the total, so that done can reach it.
    public var lfsObjectsTotal = 0
    /// Bytes of LFS objects moved so far; retried bytes are not counted twice.
    public var lfsBytesDone: UInt64 = 0
    /// Bytes of the LFS objects the operation moves; a failed object's leave it with the object.
    public var lfsBytesTotal: UInt64 = 0

    /// The progress before anything happened: `.connecting`, every count 0.
    public init() {}
}

/// Told where an operation is: at most every 100 milliseconds, on every change of phase, and once at
/// the end with `.done` (not when the operation fails).
///
/// It is called synchronously from the thread that made the progress, libgit2's or a transfer's,
/// so it must return quickly: draw, or hand the value on. Calls may come from several threads at
/// once and, rarely, out of order.
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
