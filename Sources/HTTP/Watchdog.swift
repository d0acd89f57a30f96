import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

extension HTTPClient {
    /// Watches every running task of one client with one timer, four times a second: reports each
    /// task's byte counts, cancels a task when nothing moved for the idle limit, and cancels a
    /// download task whose answer is a 401 (which would otherwise never complete on Linux, see
    /// Vendor-notes.md).
    ///
    /// One timer for all tasks, running only while there are any: a timer per task at 10 Hz
    /// woke the process 640 times a second with 64 downloads waiting on a distant host, and a
    /// client with nothing to do should cost nothing.
    final class Watchdog: Sendable {
        struct Watched {
            let task: URLSessionTask
            let state: TaskState
            let progress: (@Sendable (Int64) -> Void)?
            /// Report bytes sent (uploads) rather than received.
            let reportSent: Bool
            var lastBytes: Int64 = -1
            var lastChange = ContinuousClock.now
        }
        private struct Inner {
            var watched: [Int: Watched] = [:]
            var timer: (any DispatchSourceTimer)?
        }
        private let inner = Mutex(Inner())
        private let idleSeconds: Double
        static let interval: DispatchTimeInterval = .milliseconds(250)

        init(idle: Duration) { idleSeconds = idle.timeInterval }

        deinit { inner.withLock { $0.timer?.cancel() } }

        func watch(_ task: URLSessionTask, state: TaskState, progress: (@Sendable (Int64) -> Void)?, reportSent: Bool) {
            inner.withLock { s in
                s.watched[task.taskIdentifier] = Watched(task: task, state: state, progress: progress,
                                                         reportSent: reportSent)
                guard s.timer == nil else { return }
                let timer = DispatchSource.makeTimerSource(queue: .global())
                timer.schedule(deadline: .now() + Self.interval, repeating: Self.interval, leeway: .milliseconds(50))
                timer.setEventHandler { [weak self] in self?.tick() }
                s.timer = timer
                timer.resume()
            }
        }

        private func tick() {
            let now = ContinuousClock.now
            // Decide under the lock; report and cancel outside it (both call out).
            var reports: [(@Sendable (Int64) -> Void, Int64)] = []
            var cancels: [(Watched, TaskState.Reason)] = []
            inner.withLock { s in
                for (id, var entry) in s.watched {
                    if entry.state.isFinished {
                        s.watched[id] = nil
                        continue
                    }
                    let moved = entry.task.countOfBytesReceived + entry.task.countOfBytesSent
                    if moved != entry.lastBytes {
                        entry.lastBytes = moved
                        entry.lastChange = now
                        if let progress = entry.progress {
                            reports.append((progress, entry.reportSent ? entry.task.countOfBytesSent
                                                                       : entry.task.countOfBytesReceived))
                        }
                    }
                    if entry.task is URLSessionDownloadTask, let http = entry.task.response as? HTTPURLResponse,
                       http.statusCode == 401 {
                        cancels.append((entry, .unauthorized(http)))
                        s.watched[id] = nil
                    } else if (now - entry.lastChange).timeInterval > idleSeconds {
                        cancels.append((entry, .timeout(Int(idleSeconds.rounded()))))
                        s.watched[id] = nil
                    } else {
                        s.watched[id] = entry
                    }
                }
                if s.watched.isEmpty {
                    s.timer?.cancel()
                    s.timer = nil
                }
            }
            for (progress, bytes) in reports { progress(bytes) }
            for (entry, reason) in cancels { entry.state.cancel(entry.task, reason: reason) }
        }
    }
}
