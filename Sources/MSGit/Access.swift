import Foundation
import HTTP
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a hub says to the credentials msgit would use for a repository, without cloning anything.
public struct AccessReport: Sendable, Codable, Equatable {
    /// What the hub answered to one credential; the raw values are what `--json` reports print.
    ///
    /// - `accepted`: the hub let the credential in (a 2xx answer).
    /// - `refused`: it asked for credentials, or refused these (401 or 403).
    /// - `notFound`: no such repository, or none this credential may see (404).
    /// - `unknown`: any other answer, such as a server error or a redirect.
    public enum Answer: String, Sendable, Codable {
        case accepted, refused, notFound = "not-found", unknown
    }

    /// The repository URL, without userinfo.
    public var url: String
    /// Where the token for reading comes from (never the token); nil when none was found.
    public var source: String?
    /// The username sent with the read token; nil when there is none.
    public var username: String?
    /// Where the token for writing (push, upload) comes from: a write token (`MSGIT_PUSH_TOKEN`,
    /// `--push-token-file`), else the read token's source; nil when there is none.
    public var writeSource: String?
    /// The username sent with the write token; nil when there is none.
    public var writeUsername: String?
    /// Whether the hub lets the read credential fetch.
    public var read: Answer
    /// Whether it lets the write credential push, as far as the server tells before a push
    /// (GitLab-based hubs and git http-backend refuse the receive-pack advertisement to users who
    /// may not push).
    public var write: Answer
    /// What the server said when it refused, e.g. "HTTP Basic: Access denied".
    public var serverMessage: String?

    /// A report with every field given; the sources and usernames nil as for a repository with no
    /// credential, `serverMessage` nil when the hub refused nothing.
    public init(url: String, source: String? = nil, username: String? = nil, writeSource: String? = nil,
                writeUsername: String? = nil, read: Answer, write: Answer, serverMessage: String? = nil) {
        self.url = url
        self.source = source
        self.username = username
        self.writeSource = writeSource
        self.writeUsername = writeUsername
        self.read = read
        self.write = write
        self.serverMessage = serverMessage
    }
}

extension GitClient {
    /// Asks the hub whether the credentials msgit would use for `url` may read it (the read
    /// credential) and write it (the write credential, or the read one when there is none).
    public func checkAccess(_ url: String) async throws(MSGitError) -> AccessReport {
        try await checkAccess(try RemoteURL.resolving(url))
    }

    /// `checkAccess` of a URL already parsed.
    public func checkAccess(_ remote: RemoteURL) async throws(MSGitError) -> AccessReport {
        try await operation("auth_check") { _ throws(MSGitError) in try await performCheckAccess(remote) }
    }

    private func performCheckAccess(_ remote: RemoteURL) async throws(MSGitError) -> AccessReport {
        let secrets = SecretScope()
        defer { secrets.end() }
        do {
            let reading = try CredentialResolution(url: remote, client: self, purpose: .read, secrets: secrets).credential
            let writing = try CredentialResolution(url: remote, client: self, purpose: .write, secrets: secrets).credential
            let http = try transferPool().http
            func ask(_ service: String, with credential: Credential?) async throws -> HTTPClient.Response {
                var request = URLRequest(url: URL(string: remote.string + "/info/refs?service=\(service)")!)
                request.setValue(GitClient.gitUserAgent, forHTTPHeaderField: "User-Agent")
                credential?.scope(for: remote.origin).authorize(&request)
                do {
                    return try await http.send(request, limit: 1 << 20, truncating: true)
                } catch let failure as HTTPClient.Failure {
                    switch failure {
                    case .timeout: throw MSGitError(.timeout, "'\(remote)' did not answer in time")
                    case .cancelled: throw MSGitError.cancelled()
                    case .shutDown: throw ClientResources.shutDownError
                    case .insecureRedirect(let from, let to): throw MSGitError(.invalidArgument, "refused a redirect from \(from) to \(to)")
                    case .transport(let message), .local(let message), .tooLarge(let message):
                        throw MSGitError(.network, "cannot reach '\(remote)': \(message)")
                    }
                }
            }
            func answer(_ response: HTTPClient.Response) -> AccessReport.Answer {
                switch StatusMeaning(response.status) {
                case .success: .accepted
                case .refused: .refused
                case .notFound: .notFound
                default: .unknown
                }
            }
            let read = try await ask("git-upload-pack", with: reading)
            let write = try await ask("git-receive-pack", with: writing)
            let refusal = [read, write].first { StatusMeaning($0.status) == .refused }
            let message = refusal.map { String(decoding: $0.body.prefix(200), as: UTF8.self) }?
                .split(whereSeparator: \.isNewline).first.map { String($0).redacted }
            return AccessReport(url: remote.string, source: reading?.source, username: reading?.username,
                                writeSource: writing?.source, writeUsername: writing?.username,
                                read: answer(read), write: answer(write), serverMessage: message)
        } catch {
            throw MSGitError.from(error)
        }
    }
}
