import Foundation
import LFS
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a hub says to a credential, without cloning anything.
public struct AccessReport: Sendable, Codable, Equatable {
    public enum Answer: String, Sendable, Codable {
        case accepted, refused, notFound = "not-found", unknown
    }

    /// The repository URL, without userinfo.
    public var url: String
    /// Where the token came from (never the token); nil when none was found.
    public var source: String?
    public var username: String?
    /// Whether the hub lets this credential fetch.
    public var read: Answer
    /// Whether it lets it push, as far as the server tells before a push (GitLab-based hubs and git
    /// http-backend refuse the receive-pack advertisement to users who may not push).
    public var write: Answer
    /// What the server said when it refused, e.g. "HTTP Basic: Access denied".
    public var serverMessage: String?
}

extension GitClient {
    /// Asks the hub whether the credential msgit would use for `url` may read and write it.
    public func checkAccess(_ url: String) async throws(MSGitError) -> AccessReport {
        do {
            let remote = try RemoteURL(ShortNames.expand(url))
            let resolution = try CredentialResolution(url: remote, provider: credentials, username: username)
            let credential = resolution.credential
            let http = HTTPClient(idleTimeout: timeouts.idle)
            func ask(_ service: String) async throws -> HTTPClient.Response {
                var request = URLRequest(url: URL(string: remote.string + "/info/refs?service=\(service)")!)
                request.setValue("git/2.0 (msgit/\(MSGitVersion.string))", forHTTPHeaderField: "User-Agent")
                if let credential { request.setValue(credential.basicAuthorization, forHTTPHeaderField: "Authorization") }
                do {
                    return try await http.send(request, limit: 1 << 20)
                } catch let failure as HTTPClient.Failure {
                    switch failure {
                    case .timeout: throw MSGitError(.timeout, "'\(remote)' did not answer in time")
                    case .cancelled: throw MSGitError.cancelled()
                    case .insecureRedirect(let from, let to): throw MSGitError(.invalidArgument, "refused a redirect from \(from) to \(to)")
                    case .transport(let message), .local(let message):
                        throw MSGitError(.network, "cannot reach '\(remote)': \(message)")
                    }
                }
            }
            func answer(_ response: HTTPClient.Response) -> AccessReport.Answer {
                switch response.status {
                case 200: .accepted
                case 401, 403: .refused
                case 404: .notFound
                default: .unknown
                }
            }
            let read = try await ask("git-upload-pack")
            let write = try await ask("git-receive-pack")
            let refusal = [read, write].first { $0.status == 401 || $0.status == 403 }
            let message = refusal.map { String(decoding: $0.body.prefix(200), as: UTF8.self) }?
                .split(whereSeparator: \.isNewline).first.map { String($0).redacted }
            return AccessReport(url: remote.string, source: credential?.source, username: credential?.username,
                                read: answer(read), write: answer(write), serverMessage: message)
        } catch {
            throw MSGitError.from(error)
        }
    }
}

/// Writes tokens into git's credential store file, as `git credential-store` would.
public enum CredentialStoreFile {
    /// Stores `token` for the origin of `url` in `file` (default `~/.git-credentials`), replacing
    /// an entry for the same origin and user. The file is written whole under a temporary name with
    /// mode 0600 and renamed, so it is never readable by others, nor half written.
    public static func save(token: String, for url: String, username: String = Credential.defaultUsername,
                            file: URL) throws(MSGitError) {
        // Any URL on the hub will do; only its origin is kept.
        let expanded = ShortNames.expand(url)
        guard let components = URLComponents(string: expanded), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let rawHost = components.host, !rawHost.isEmpty else {
            throw MSGitError(.invalidArgument, "'\(expanded.redacted)' is not an http(s) URL of a hub")
        }
        let token = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw MSGitError(.invalidArgument, "no token on standard input") }
        guard !token.contains(where: \.isNewline) else {
            throw MSGitError(.invalidArgument, "the token must be one line")
        }
        let existing = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        let host = components.port.map { "\(rawHost.lowercased()):\($0)" } ?? rawHost.lowercased()
        let text = GitCredentialStore.store(
            GitCredentialStore.Entry(scheme: scheme, host: host, username: username, password: token), in: existing)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).msgit-\(getpid())")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw MSGitError(.io, "cannot write '\(file.path)': \(String(cString: strerror(errno)))") }
        let data = Array(text.utf8)
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        guard written == data.count, rename(temporary.path, file.path) == 0 else {
            unlink(temporary.path)
            throw MSGitError(.io, "cannot write '\(file.path)': \(String(cString: strerror(errno)))")
        }
    }
}

public enum MSGitVersion {
    public static let string = "0.1.0"
}
