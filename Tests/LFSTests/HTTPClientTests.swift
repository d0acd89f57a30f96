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
        #expect(next?.value(forHTTPHeaderField: "Authorization") == "Basic x")
    }

    @Test func otherOriginLosesCredentialHeaders() {
        var request = URLRequest(url: URL(string: "https://cdn.example/o")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        request.setValue("t", forHTTPHeaderField: "Private-Token")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Accept")
        let next = HTTPClient.redirected(request, from: URL(string: "https://hub.example/start")!)
        #expect(next != nil)
        #expect(next?.value(forHTTPHeaderField: "Authorization") == nil)
        #expect(next?.value(forHTTPHeaderField: "Private-Token") == nil)
        #expect(next?.value(forHTTPHeaderField: "Accept") == "application/octet-stream")
    }

    @Test func httpsNeverDropsToHTTP() {
        let request = URLRequest(url: URL(string: "http://hub.example/o")!)
        #expect(HTTPClient.redirected(request, from: URL(string: "https://hub.example/start")!) == nil)
        #expect(HTTPClient.redirected(request, from: URL(string: "http://other.example/start")!) != nil)
    }

    @Test func anHTTPSEndpointsHTTPHrefIsRefused() throws {
        let downloader = ObjectDownloader(store: ObjectStore(root: URL(fileURLWithPath: "/x")), http: HTTPClient(),
                                          endpoint: URL(string: "https://hub.example/ns/r.git/info/lfs")!,
                                          hubAuthorization: "Basic hub", maximumSegment: 64 << 20, retry: RetryPolicy(),
                                          space: .shared, logger: .init(label: "t"))
        let http = BatchObject.Action(href: "http://cdn.example/o", header: nil, expiresIn: nil, expiresAt: nil)
        #expect {
            _ = try downloader.makeRequest(http)
        } throws: { ($0 as? LFSError)?.kind == .insecure && "\($0)".contains("would drop to plain http") }
        // Storage on another origin gets its action's headers and never the hub's Authorization.
        let storage = BatchObject.Action(href: "https://cdn.example/o?sig=x", header: ["X-Sig": "1"], expiresIn: nil, expiresAt: nil)
        let request = try downloader.makeRequest(storage)
        #expect(request.value(forHTTPHeaderField: "Authorization") == nil && request.value(forHTTPHeaderField: "X-Sig") == "1")
        let onHub = BatchObject.Action(href: "https://hub.example/lfs/o", header: nil, expiresIn: nil, expiresAt: nil)
        #expect(try downloader.makeRequest(onHub).value(forHTTPHeaderField: "Authorization") == "Basic hub")
        let withOwn = BatchObject.Action(href: "https://hub.example/lfs/o", header: ["Authorization": "Bearer own"],
                                         expiresIn: nil, expiresAt: nil)
        #expect(try downloader.makeRequest(withOwn).value(forHTTPHeaderField: "Authorization") == "Bearer own")
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
