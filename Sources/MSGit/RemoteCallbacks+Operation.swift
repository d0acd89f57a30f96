import Foundation
import GitCore
import Logging

extension RemoteCallbacks {
    /// The libgit2 callbacks every network operation uses: the authenticator, progress, server messages.
    static func operation(authenticator: Authenticator, reporter: ProgressReporter, logger: Logger) -> RemoteCallbacks {
        var callbacks = RemoteCallbacks()
        callbacks.credentials = { try authenticator.answer($0) }
        callbacks.transferProgress = { stats in
            reporter.update {
                $0.phase = stats.receivedObjects < stats.totalObjects || stats.totalDeltas == 0 ? .receivingObjects : .resolvingDeltas
                $0.receivedObjects = stats.receivedObjects
                $0.indexedObjects = stats.indexedObjects
                $0.totalObjects = stats.totalObjects
                $0.receivedBytes = stats.receivedBytes
                $0.indexedDeltas = stats.indexedDeltas
                $0.totalDeltas = stats.totalDeltas
            }
        }
        callbacks.pushTransferProgress = { push in
            reporter.update {
                $0.phase = .pushing
                $0.pushedObjects = push.current
                $0.totalPushObjects = push.total
                $0.pushedBytes = push.bytes
            }
        }
        callbacks.serverMessage = { line in logger.trace("remote: \(line)") }
        return callbacks
    }
}
