import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
