import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

extension HTTPClient {
    /// The session delegate: redirect policy, challenges, and the data of delegate-driven tasks.
    final class SessionDelegate: NSObject, URLSessionDataDelegate, Sendable {
        private let states = Mutex<[Int: TaskState]>([:])

        func register(_ task: URLSessionTask, _ state: TaskState) {
            states.withLock { $0[task.taskIdentifier] = state }
        }

        private func state(_ task: URLSessionTask) -> TaskState? {
            states.withLock { $0[task.taskIdentifier] }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            guard let from = task.currentRequest?.url ?? task.originalRequest?.url,
                  let next = CredentialScope.redirected(request, from: from) else {
                completionHandler(nil)
                state(task)?.cancel(task, reason: .insecureRedirect(
                    (task.currentRequest?.url).map(\.redactedForRedirect) ?? "?", request.url.map(\.redactedForRedirect) ?? "?"))
                return
            }
            completionHandler(next)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
            // Credentials are sent explicitly, to the right origin only; never from a store.
            completionHandler(.cancelAuthenticationChallenge, nil)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            guard let state = state(dataTask) else { return completionHandler(.allow) }
            state.received(response)
            if response.expectedContentLength > state.limit {
                // A body read whole (an upload's answer) that says it is larger than allowed is
                // not read at all.
                state.cancel(dataTask, reason: .tooLarge)
                completionHandler(.cancel)
                return
            }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard let state = state(dataTask) else { return }
            state.count(data.count)
            if !state.append(data) {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let state = states.withLock { $0.removeValue(forKey: task.taskIdentifier) }
            // Download tasks finish in their completion handler; this only catches what it did not.
            if task is URLSessionDataTask { state?.finish(response: task.response, error: error) }
        }
    }
}
