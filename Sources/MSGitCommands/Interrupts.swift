import ArgumentParser
import Foundation
import MSGit

/// Runs `body` as a task that Ctrl-C (SIGINT) and SIGTERM cancel; a second signal exits at once.
/// Cancellation stops the operation promptly and lets it clean up (a clone removes what it made).
func withInterrupts<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await body() }
    let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        let seen = SignalCount()
        source.setEventHandler {
            if seen.increment() > 1 { Foundation.exit(ExitStatus.interrupted) }
            task.cancel()
        }
        source.resume()
        return source
    }
    defer {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
    return try await task.value
}

final class SignalCount: @unchecked Sendable {
    // @unchecked Sendable: `count` is guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
}
