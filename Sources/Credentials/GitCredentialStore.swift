import Foundation

/// git's credential store file format: one URL per line, `scheme://user:password@host[:port][/path]`,
/// user and password percent-encoded. Matched as git-credential-store does with
/// `credential.useHttpPath` unset: the scheme and host (with port, as written) must be equal, a
/// username in the repository URL must be equal, paths are not compared.
public enum GitCredentialStore {
    /// One line of a store file, decoded.
    public struct Entry: Equatable, Sendable {
        /// The protocol, lowercased: "https" or "http".
        public var scheme: String
        /// The host, lowercased, with ":port" when the line names a port.
        public var host: String
        /// The username, decoded; nil when the line has none.
        public var username: String?
        /// The password or token, decoded.
        public var password: String
    }

    /// The entry of one line; nil for a blank line or one that is not a URL with a host and a password.
    public static func parse(_ line: Substring) -> Entry? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, let components = URLComponents(string: text), let scheme = components.scheme,
              let host = components.host, let password = components.percentEncodedPassword else { return nil }
        let hostPort = components.port.map { "\(host.lowercased()):\($0)" } ?? host.lowercased()
        return Entry(scheme: scheme.lowercased(), host: hostPort,
                     username: components.percentEncodedUser?.removingPercentEncoding,
                     password: password.removingPercentEncoding ?? password)
    }

    /// The first entry of `text` (a store file's content) for `url`'s scheme, host and port, and its
    /// username when the URL names one; nil when no line matches.
    public static func lookup(_ url: RemoteURL, in text: String) -> Entry? {
        let host = url.port.map { "\(url.host):\($0)" } ?? url.host
        for line in text.split(whereSeparator: \.isNewline) {
            guard let entry = parse(line), entry.scheme == url.scheme, entry.host == host else { continue }
            if let wanted = url.username, entry.username != wanted { continue }
            return entry
        }
        return nil
    }

    /// `text` with the entry for (scheme, host, username) replaced by, or extended with, `entry`.
    public static func store(_ entry: Entry, in text: String) -> String {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            guard let old = parse(Substring(line)) else { return true }
            return !(old.scheme == entry.scheme && old.host == entry.host && old.username == entry.username)
        }
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#[]"))
        let user = (entry.username ?? Credential.defaultUsername).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let password = entry.password.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        lines.append("\(entry.scheme)://\(user):\(password)@\(entry.host)")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// git's `credential-store` helper done natively (git's `builtin/credential-store.c`), for a
/// `store` helper when git is not installed: the same files, the same matching, the same lines.
extension GitCredentialStore {
    /// `get`: the username and password of the first line, in the first file that has one, that
    /// is a full URL with both and whose every part `request` has is equal (paths compared only
    /// when `request` has one, that is with `credential.useHttpPath`).
    package static func lookup(_ request: CredentialDescription, files: [URL]) -> CredentialDescription? {
        for file in files {
            for line in lines(of: file) {
                if let entry = storedEntry(line), request.isMatched(by: entry, comparingPassword: false) { return entry }
            }
        }
        return nil
    }

    /// `store`: the credential as the first line of the first of `files` that exists (else of the
    /// first), every other line for the same protocol, host, path and username dropped. Nothing
    /// without a protocol, a host or path, a username and a password.
    package static func store(_ credential: CredentialDescription, files: [URL]) throws(MSGitError) {
        guard let scheme = credential.protocolName, credential.host != nil || credential.path != nil,
              let username = credential.username, let password = credential.password, let first = files.first else { return }
        var line = "\(scheme)://\(encode(username, keeping: unreserved)):\(encode(password, keeping: unreserved))@"
        if let host = credential.host { line += encode(host, keeping: unreserved) }
        if let path = credential.path { line += "/" + encode(path, keeping: unreserved.union(reserved)) }
        let file = files.first { FileManager.default.fileExists(atPath: $0.path) } ?? first
        try rewrite(file, adding: line) { credential.isMatched(by: $0, comparingPassword: false) }
    }

    /// `erase`: every line matching the credential, its password included when it has one,
    /// removed from every file. Nothing for a credential with no protocol, host, path or username
    /// (which would match every line).
    package static func erase(_ credential: CredentialDescription, files: [URL]) throws(MSGitError) {
        guard credential.protocolName != nil || credential.host != nil || credential.path != nil
            || credential.username != nil else { return }
        for file in files where FileManager.default.fileExists(atPath: file.path) {
            try rewrite(file, adding: nil) { credential.isMatched(by: $0, comparingPassword: true) }
        }
    }

    /// A stored line as git reads it: a full URL with a username and a password.
    private static func storedEntry(_ line: String) -> CredentialDescription? {
        guard let entry = CredentialDescription(url: line, partial: false), entry.username != nil,
              entry.password != nil else { return nil }
        return entry
    }

    /// The lines of `file` as git's `strbuf_getline_lf` reads them; none when it cannot be read.
    private static func lines(of file: URL) -> [String] {
        guard let data = FileManager.default.contents(atPath: file.path) else { return [] }
        var lines = Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes `file` anew, as git does under its lock file `<file>.lock` (mode 0600, renamed over
    /// the file): `adding` first, then every line `drops` does not match.
    private static func rewrite(_ file: URL, adding: String?, drops: (CredentialDescription) -> Bool) throws(MSGitError) {
        let lock = file.path + ".lock"
        var fd: Int32 = -1
        // git waits up to credentialStore.lockTimeoutMS (1 s) for another writer.
        for attempt in 0..<20 {
            fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
            if attempt < 19 { usleep(50_000) }
        }
        guard fd >= 0 else {
            throw MSGitError(.io, "unable to get the credential storage lock '\(lock)': \(String(cString: strerror(errno)))")
        }
        var text = adding.map { $0 + "\n" } ?? ""
        for line in lines(of: file) {
            if let entry = storedEntry(line), drops(entry) { continue }
            text += line + "\n"
        }
        let data = Array(text.utf8)
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, rename(lock, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(lock)
            throw MSGitError(.io, "unable to write the credential store '\(file.path)': \(reason)")
        }
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
    private static let reserved = Set("!*'();:@&=+$,/?#[]".utf8)

    /// git's `strbuf_addstr_urlencode`: `%xx` (lower case) for every byte not kept.
    private static func encode(_ text: String, keeping: Set<UInt8>) -> String {
        var out = ""
        for byte in text.utf8 {
            if keeping.contains(byte) {
                out.append(Character(UnicodeScalar(byte)))
            } else {
                out += (byte < 0x10 ? "%0" : "%") + String(byte, radix: 16)
            }
        }
        return out
    }
}
