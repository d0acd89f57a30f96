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
            /// When the answer's headers became due: the start, or, for an upload, when its body
            /// was all sent (nil until then).
            var headersDue: ContinuousClock.Instant? = ContinuousClock.now
            /// The low-speed window: when it began, and the bytes moved by then.
            var windowStart = ContinuousClock.now
            var windowBytes: Int64 = 0
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
                var watched = Watched(task: task, state: state, progress: progress, reportSent: reportSent)
                // An upload's answer is due once its body is sent; a download task's headers are
                // not seen (its completion handler gets them with the file).
                if task is URLSessionUploadTask || task is URLSessionDownloadTask { watched.headersDue = nil }
                s.watched[task.taskIdentifier] = watched
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
                    // A data task's `countOfBytesReceived` stays 0 in FoundationNetworking: the
                    // delegate's count (TaskState) is the truth for bytes received.
                    let received = entry.task is URLSessionDownloadTask ? entry.task.countOfBytesReceived
                        : entry.state.receivedBytes
                    let moved = received + entry.task.countOfBytesSent
                    if entry.headersDue == nil, entry.task is URLSessionUploadTask,
                       entry.task.countOfBytesSent >= entry.task.countOfBytesExpectedToSend {
                        entry.headersDue = now
                    }
                    if moved != entry.lastBytes {
                        entry.lastBytes = moved
                        entry.lastChange = now
                        if let progress = entry.progress {
                            reports.append((progress, entry.reportSent ? entry.task.countOfBytesSent : received))
                        }
                    }
                    if entry.task is URLSessionDownloadTask, let http = entry.task.response as? HTTPURLResponse,
                       http.statusCode == 401 {
                        cancels.append((entry, .unauthorized(http)))
                        s.watched[id] = nil
                    } else if (now - entry.lastChange).timeInterval > idleSeconds {
                        cancels.append((entry, .timeout(Int(idleSeconds.rounded()))))
                        s.watched[id] = nil
                    } else if entry.task is URLSessionDataTask, !entry.state.hasResponse, let due = entry.headersDue,
                              (now - due).timeInterval > idleSeconds {
                        // Headers trickled in (they move no body bytes, so the idle limit sees
                        // nothing), or not sent: the headers' own limit.
                        cancels.append((entry, .noHeaders(Int(idleSeconds.rounded()))))
                        s.watched[id] = nil
                    } else if (now - entry.windowStart).timeInterval >= idleSeconds {
                        // The low-speed limit: a byte a second resets the idle limit, not this.
                        let seconds = (now - entry.windowStart).timeInterval
                        if Double(moved - entry.windowBytes) < seconds * Double(HTTPClient.lowSpeedLimit) {
                            cancels.append((entry, .tooSlow(Int(seconds.rounded()))))
                            s.watched[id] = nil
                        } else {
                            entry.windowStart = now
                            entry.windowBytes = moved
                            s.watched[id] = entry
                        }
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
