import Foundation
import GitCore
import LFS
import Synchronization

/// What a `GitClient` owns beyond its configuration, shared by every copy of it and every
/// operation it runs: the LFS transfer pools (HTTP clients and memory budget, one per distinct
/// `Timeouts`, since a client's timeouts may be changed on a copy), and the git operations running,
/// so that `shutdown()` can end them all. Nothing of this is process-wide: two clients share
/// nothing.
final class ClientResources: Sendable {
    private struct State {
        var pools: [Timeouts: TransferPool] = [:]
        /// The git operations under way (weakly: an operation that ended is gone by itself).
        var operations: [ObjectIdentifier: WeakOperation] = [:]
        var shutDown = false
    }

    private struct WeakOperation: @unchecked Sendable {
        // @unchecked Sendable: GitOperation is Sendable; the weak box only reads it.
        weak var operation: GitOperation?
    }

    private let state = Mutex(State())

    init() {}

    static let shutDownError = MSGitError(.cancelled, "this GitClient was shut down", hint: "make a new GitClient")

    /// The transfer pool for `timeouts`, made at first use.
    func pool(for timeouts: Timeouts) throws(MSGitError) -> TransferPool {
        let pool: TransferPool? = state.withLock { s in
            if s.shutDown { return nil }
            if let existing = s.pools[timeouts] { return existing }
            let made = TransferPool(idleTimeout: timeouts.idle, connectTimeout: timeouts.connect)
            s.pools[timeouts] = made
            return made
        }
        guard let pool else { throw Self.shutDownError }
        return pool
    }

    /// A git operation with `timeouts`, which `shutdown()` cancels if it is still running then.
    func operation(_ timeouts: Timeouts) throws(MSGitError) -> GitOperation {
        let operation = GitOperation(connectTimeout: timeouts.connect, idleTimeout: timeouts.idle)
        let accepted = state.withLock { s -> Bool in
            if s.shutDown { return false }
            s.operations = s.operations.filter { $0.value.operation != nil }
            s.operations[ObjectIdentifier(operation)] = WeakOperation(operation: operation)
            return true
        }
        guard accepted else { throw Self.shutDownError }
        return operation
    }

    /// Cancels every operation under way and every transfer, and refuses new ones.
    func shutdown() {
        let (pools, operations) = state.withLock { s -> ([TransferPool], [GitOperation]) in
            s.shutDown = true
            defer {
                s.pools = [:]
                s.operations = [:]
            }
            return (Array(s.pools.values), s.operations.values.compactMap(\.operation))
        }
        for operation in operations { operation.cancel() }
        for pool in pools { pool.shutdown() }
    }

    var isShutDown: Bool { state.withLock { $0.shutDown } }
}
