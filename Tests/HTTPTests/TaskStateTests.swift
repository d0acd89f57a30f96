import Foundation
import Testing
@testable import HTTP
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct TaskStateTests {
    @Test func aStateFinishedBeforeItsContinuationResumesAtOnce() async {
        // Cancellation can finish a task's state before the continuation is stored; the waiting
        // call must still end (it once waited forever).
        let state = HTTPClient.TaskState(limit: 0)
        state.cancelReason(.cancelled)
        state.finish(error: HTTPClient.Failure.cancelled)
        var started = true
        do {
            _ = try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPClient.Response, any Error>) in
                started = state.setContinuation(c)
            }
            Issue.record("a cancelled state must not succeed")
        } catch {
            #expect(error as? HTTPClient.Failure == .cancelled)
        }
        #expect(!started, "the URLSession task must not be started")
    }

    @Test func theFirstFinishWins() async {
        let state = HTTPClient.TaskState(limit: 0)
        do {
            _ = try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPClient.Response, any Error>) in
                #expect(state.setContinuation(c))
                state.cancelReason(.timeout(3))
                state.finish(error: nil)
                state.finish(error: HTTPClient.Failure.cancelled)  // a late completion handler: ignored
            }
            Issue.record("a timed-out state must not succeed")
        } catch {
            #expect(error as? HTTPClient.Failure == .timeout(seconds: 3))
        }
        #expect(state.isFinished)
    }
}
