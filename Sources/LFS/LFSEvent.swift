import Synchronization

/// What happens to one LFS file of an operation, as a service shows it: for each path, `queued`,
/// then `bytes` as its object moves, then `done` or `failed`; or `skipped` alone. git-lfs tells its
/// progress meter the same per name (`tq/meter.go`: StartTransfer, TransferBytes, FinishTransfer).
public struct LFSEvent: Sendable, Equatable, CustomStringConvertible {
    /// Whether the file's object comes down (clone, pull, checkout, `lfs pull`) or goes up (push,
    /// upload).
    public enum Direction: String, Sendable, Codable {
        case download, upload
    }

    /// Why a file needs no transfer.
    public enum Skip: String, Sendable, Codable {
        /// Its content is there already (the work tree holds it; the server has the object).
        case present
        /// The include/exclude patterns leave it out.
        case excluded
    }

    /// What happened to the file. Per path, in order: `queued`, any number of `bytes`, then `done` or
    /// `failed`; or `skipped` alone.
    public enum Kind: Sendable, Equatable {
        /// The file will be transferred: its object and size.
        case queued(oid: String, size: Int64)
        /// Bytes of its object moved so far, of the total. Retried bytes are not counted twice;
        /// several files of one object each get its bytes.
        case bytes(done: Int64, total: Int64)
        /// In place in the work tree (download), or on the server (upload).
        case done
        /// Nothing to transfer, and why; the last event of its path.
        case skipped(Skip)
        /// The file could not be transferred (on a download it stays a pointer); the last event of
        /// its path. The reason names hosts without userinfo or query; the operation's result has
        /// it too, masked by MSGit's `Redactor`, which this text has not passed through.
        case failed(reason: String)
    }

    /// Down or up.
    public var direction: Direction
    /// The file's path in the repository.
    public var path: String
    /// What happened.
    public var kind: Kind

    /// An event of the file at `path`, as the library makes them and a test of a handler may.
    public init(_ direction: Direction, _ path: String, _ kind: Kind) {
        self.direction = direction
        self.path = path
        self.kind = kind
    }

    /// One line: the direction, what happened and the path ("download done models/w.bin").
    public var description: String {
        switch kind {
        case .queued(let oid, let size): "\(direction.rawValue) queued \(path) (\(oid.prefix(12)), \(size) bytes)"
        case .bytes(let done, let total): "\(direction.rawValue) \(done)/\(total) \(path)"
        case .done: "\(direction.rawValue) done \(path)"
        case .skipped(let why): "\(direction.rawValue) skipped \(path) (\(why.rawValue))"
        case .failed(let reason): "\(direction.rawValue) failed \(path): \(reason)"
        }
    }
}

/// Receives the events of an operation, in order, one at a time. It runs on a task of its own, fed
/// from a buffer: however slow it is, no transfer waits for it (a `bytes` event it has not had yet
/// is replaced by the newer one of the same path). The operation returns once it has had them all.
public typealias LFSEventHandler = @Sendable (LFSEvent) async -> Void

/// The buffer between an operation and its `LFSEventHandler`: `emit` never waits; the handler
/// gets every lifecycle event, in order, and the latest `bytes` of each path.
public final class LFSEvents: Sendable {
    private struct State {
        /// Undelivered events; a slot is nil once a newer `bytes` of its path replaced it.
        var events: [LFSEvent?] = []
        /// Path -> slot of its undelivered `bytes` event.
        var pendingBytes: [String: Int] = [:]
        var waiter: CheckedContinuation<[LFSEvent]?, Never>?
        var finished = false
    }

    /// The state, in a box the delivery task can hold (a `Mutex` cannot be copied into it).
    private final class Core: Sendable {
        let state = Mutex(State())
    }

    private let core = Core()
    private let delivery: Task<Void, Never>

    /// Starts delivering to `handler`.
    public init(_ handler: @escaping LFSEventHandler) {
        let core = self.core
        delivery = Task {
            while let batch = await Self.next(core) {
                for event in batch { await handler(event) }
            }
        }
    }

    /// Adds `event` to the buffer and returns at once, whatever the handler is doing. A `bytes` event
    /// replaces the path's undelivered `bytes`, if any; events after `finish()` are dropped.
    public func emit(_ event: LFSEvent) {
        let waiter = core.state.withLock { s -> (CheckedContinuation<[LFSEvent]?, Never>, [LFSEvent])? in
            guard !s.finished else { return nil }
            if case .bytes = event.kind, let slot = s.pendingBytes[event.path] {
                s.events[slot] = event
            } else {
                if case .bytes = event.kind {
                    s.pendingBytes[event.path] = s.events.count
                } else {
                    s.pendingBytes[event.path] = nil
                }
                s.events.append(event)
            }
            guard let waiter = s.waiter else { return nil }
            s.waiter = nil
            return (waiter, Self.take(&s))
        }
        if let (continuation, batch) = waiter { continuation.resume(returning: batch) }
    }

    /// Ends the stream and waits until the handler has had every event.
    public func finish() async {
        let waiter = core.state.withLock { s -> CheckedContinuation<[LFSEvent]?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
        await delivery.value
    }

    private static func take(_ s: inout State) -> [LFSEvent] {
        defer {
            s.events = []
            s.pendingBytes = [:]
        }
        return s.events.compactMap { $0 }
    }

    /// The events waiting, or, when none are, the next ones; nil once finished and drained.
    private static func next(_ core: Core) async -> [LFSEvent]? {
        await withCheckedContinuation { continuation in
            let ready = core.state.withLock { s -> [LFSEvent]?? in
                if !s.events.isEmpty { return .some(take(&s)) }
                if s.finished { return .some(nil) }
                s.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
