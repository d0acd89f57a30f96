import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension HTTPClient {
    /// Polls one task every 100 ms: reports its byte counts, cancels it when nothing moved for the
    /// idle limit, and cancels a download task whose answer is a 401 (which would otherwise never
    /// complete on Linux, see Vendor-notes.md).
    final class Watchdog: @unchecked Sendable {
        // @unchecked Sendable: `lastBytes` and `lastChange` are touched only by `tick`, and each tick
        // schedules the next one, so no two run at once; the other fields are immutable or Sendable.
        let task: URLSessionTask
        let state: TaskState
        let idleSeconds: Double
        let progress: (@Sendable (Int64) -> Void)?
        /// Report bytes sent (uploads) rather than received.
        let reportSent: Bool
        var lastBytes: Int64 = -1
        var lastChange = ContinuousClock.now

        init(task: URLSessionTask, state: TaskState, idle: Duration, progress: (@Sendable (Int64) -> Void)?,
             reportSent: Bool) {
            self.task = task
            self.state = state
            idleSeconds = idle.timeInterval
            self.progress = progress
            self.reportSent = reportSent
        }

        func schedule() {
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { self.tick() }
        }

        func tick() {
            guard !state.isFinished else { return }
            let moved = task.countOfBytesReceived + task.countOfBytesSent
            if moved != lastBytes {
                lastBytes = moved
                lastChange = .now
                progress?(reportSent ? task.countOfBytesSent : task.countOfBytesReceived)
            }
            if task is URLSessionDownloadTask, let http = task.response as? HTTPURLResponse, http.statusCode == 401 {
                state.cancel(task, reason: .unauthorized(http))
                return
            }
            let silent = ContinuousClock.now - lastChange
            if silent.timeInterval > idleSeconds {
                state.cancel(task, reason: .timeout(Int(idleSeconds.rounded())))
                return
            }
            schedule()
        }
    }
}
