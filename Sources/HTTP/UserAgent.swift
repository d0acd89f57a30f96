/// msgit's version: the one constant every User-Agent and `msgit --version` take it from.
public enum MSGitVersion {
    /// The version, as "major.minor.patch".
    public static let string = "0.1.0"
}

/// The User-Agent headers msgit sends. Servers and their logs see one client per protocol:
///
/// - git smart HTTP (libgit2's requests and msgit's own, the auth probe and `auth check`):
///   `git/2.0 (msgit/<version> (libgit2 <version>))`. libgit2 wraps whatever it is given in
///   `git/2.0 (...)`, and smart HTTP servers (GitLab among them) key on the `git/` prefix.
/// - Git LFS (batch API, storage): `git-lfs/3.3.0 (msgit/<version>)`, the form LFS servers know.
public enum UserAgent {
    /// What msgit gives libgit2 to put inside its `git/2.0 (...)`.
    public static func libgit2Product(libgit2Version: String) -> String {
        "msgit/\(MSGitVersion.string) (libgit2 \(libgit2Version))"
    }

    /// The User-Agent of msgit's own git smart HTTP requests: the same as libgit2's.
    public static func git(libgit2Version: String) -> String {
        "git/2.0 (\(libgit2Product(libgit2Version: libgit2Version)))"
    }

    /// The User-Agent of Git LFS requests.
    public static let lfs = "git-lfs/3.3.0 (msgit/\(MSGitVersion.string))"
}
