import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP

/// Asks the server once, outside libgit2, what it says to our credentials: libgit2 1.5.1 never shows
/// the body of a 401 ("HTTP Basic: Access denied"), and a 404 behind the 401 means the repository
/// is missing, not that the token is wrong.
enum AuthProbe {
    struct Answer { var status: Int; var body: String }

    static func ask(_ url: RemoteURL, credential: Credential?, through http: HTTPClient) async -> Answer? {
        let probeURL = URL(string: url.string + "/info/refs?service=git-upload-pack")!
        var request = URLRequest(url: probeURL)
        request.setValue(GitClient.gitUserAgent, forHTTPHeaderField: "User-Agent")
        // Only to the repository's origin; the client drops it on a redirect elsewhere.
        credential?.scope(for: url.origin).authorize(&request)
        guard let response = try? await http.send(request, limit: 64 << 10, truncating: true) else { return nil }
        let text = String(decoding: response.body.prefix(400), as: UTF8.self)
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return Answer(status: response.status, body: firstLine.trimmingCharacters(in: .whitespaces))
    }
}
