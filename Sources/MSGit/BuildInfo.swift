import GitCore
import HTTP

/// What this msgit is made of, for `msgit --version` and bug reports.
public enum BuildInfo {
    /// "msgit 0.1.0 (libgit2 1.5.1 with mbedTLS; git over https through OpenSSL 3.0.19)": libgit2's
    /// own TLS library, and msgit's TLS stream, which carries libgit2's https connections.
    public static var versionLine: String {
        let openSSL = GitCore.tlsLibrary.split(separator: " ").prefix(2).joined(separator: " ")
        return "msgit \(MSGitVersion.string) (libgit2 \(GitCore.libgit2Version) with \(GitCore.libgit2TLSBackend); "
            + "git over https through \(openSSL))"
    }
}
