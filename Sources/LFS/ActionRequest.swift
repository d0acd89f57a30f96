import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP

/// The request for an action of a batch answer (a download, an upload, a verify): its href and its
/// own headers. The endpoint's credential goes only where its `CredentialScope` allows (the
/// endpoint's origin) and only when the action brings none of its own; an https endpoint's action
/// is never followed over plain http.
enum ActionRequest {
    static func make(_ action: BatchObject.Action, method: String, endpoint: URL, scope: CredentialScope?) throws
        -> URLRequest
    {
        guard let url = URL(string: action.href), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else {
            throw LFSError(.protocolError, "the LFS server gave an unusable URL")
        }
        if endpoint.scheme?.lowercased() == "https" && scheme == "http" {
            throw LFSError(.insecure, "refused to send to \(url.redactedForRedirect): the LFS endpoint is https "
                + "and this URL would drop to plain http")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue(UserAgent.lfs, forHTTPHeaderField: "User-Agent")
        for (name, value) in action.header ?? [:] { request.setValue(value, forHTTPHeaderField: name) }
        scope?.authorize(&request)
        return request
    }
}
