import GitCore
import HTTP

/// What this msgit is made of, for `msgit --version` and bug reports.
public enum BuildInfo {
    /// "msgit 0.1.0 (libgit2 1.5.1 with mbedTLS)".
    public static var versionLine: String {
        "msgit \(MSGitVersion.string) (libgit2 \(GitCore.libgit2Version) with \(GitCore.libgit2TLSBackend))"
    }
}
