import Dispatch

/// Work that blocks a thread for long (hashing a stored object, copying a file into a work tree),
/// run on a Dispatch queue of its own rather than on the Swift concurrency pool, whose few threads
/// (one per core) must stay free for the tasks that drive transfers. libgit2's work runs off the
/// pool the same way, on threads of `GitOperation`'s.
public enum BlockingWork {
    private static let queue = DispatchQueue(label: "msgit.blocking-work", qos: .utility, attributes: .concurrent)

    /// Runs `body` off the concurrency pool and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
