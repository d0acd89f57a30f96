import Foundation
import Testing
@testable import LFS
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct RedirectPolicyTests {
    @Test func sameOriginKeepsHeaders() {
        var request = URLRequest(url: URL(string: "https://hub.example/a/b")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        let next = HTTPClient.redirected(request, from: URL(string: "https://hub.example:443/start")!)
        #expect(next.value(forHTTPHeaderField: "Authorization") == "Basic x")
    }

    @Test func otherOriginLosesCredentialHeaders() {
        var request = URLRequest(url: URL(string: "https://cdn.example/o")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        request.setValue("t", forHTTPHeaderField: "Private-Token")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Accept")
        let next = HTTPClient.redirected(request, from: URL(string: "https://hub.example/start")!)
        #expect(next.value(forHTTPHeaderField: "Authorization") == nil)
        #expect(next.value(forHTTPHeaderField: "Private-Token") == nil)
        #expect(next.value(forHTTPHeaderField: "Accept") == "application/octet-stream")
    }

    @Test func portAndSchemeAreTheOrigin() {
        #expect(!HTTPClient.sameOrigin(URL(string: "http://h/x")!, URL(string: "https://h/x")!))
        #expect(!HTTPClient.sameOrigin(URL(string: "http://h:8080/x")!, URL(string: "http://h/x")!))
        #expect(HTTPClient.sameOrigin(URL(string: "http://H:80/x")!, URL(string: "http://h/y")!))
    }
}

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
