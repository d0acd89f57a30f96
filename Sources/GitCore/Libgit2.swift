internal import CGitSupport
internal import CLibgit2
import Foundation

/// Process-wide libgit2 set-up, done once before the first libgit2 call.
enum Libgit2 {
    /// `git_libgit2_init`, our socket stream, the CA bundle from the environment, and git's rule of
    /// trusting objects already in the object database.
    static let initialized: Void = {
        git_libgit2_init()
        let rc = msgit_stream_register()
        precondition(rc == 0, "registering the msgit socket stream failed (\(rc))")
        // libgit2 1.5.1 with mbedTLS ignores SSL_CERT_FILE / GIT_SSL_CAINFO; honour them as git does.
        let env = ProcessInfo.processInfo.environment
        if let file = env["GIT_SSL_CAINFO"] ?? env["SSL_CERT_FILE"], !file.isEmpty {
            _ = msgit_opts_set_ssl_cert_locations(file, nil)
            msgit_tls_add_ca_locations(file, nil)
        }
        // libgit2 hashes every object again each time it reads one from disk; git does not (its
        // fsck does). The objects of a fetched pack were hashed once already, as the indexer
        // received them, which is how their ids were found. Re-hashing on read cost a fresh clone
        // of 19,000 files 0.3 s of CPU in checkout (Vendor-notes.md).
        _ = msgit_opts_set_strict_hash_verification(0)
    }()
}

public enum GitCore {
    /// Sets what libgit2 sends inside its `User-Agent: git/2.0 (...)`, for the whole process
    /// (libgit2's options are global). Unset, it is `libgit2 <version>`.
    public static func setUserAgent(_ product: String) {
        _ = Libgit2.initialized
        _ = msgit_opts_set_user_agent(product)
    }

    /// The TLS library the libgit2 msgit runs with uses for https: "mbedTLS" (Debian's build),
    /// "OpenSSL", "GnuTLS", or "none" without https support. Found at run time by asking the dynamic
    /// linker which of their functions libgit2's own dependencies provide (CGitSupport/features.c).
    /// Neither this nor `libgit2Version` initializes libgit2 (with mbedTLS, that parses the whole
    /// system CA bundle: 8 ms of `msgit --version` otherwise).
    public static var libgit2TLSBackend: String {
        String(cString: msgit_libgit2_tls_backend())
    }

    /// The TLS library of msgit's own TLS stream, which carries libgit2's https connections
    /// ("OpenSSL 3.0.19 1 Jul 2025").
    public static var tlsLibrary: String {
        String(cString: msgit_tls_library())
    }

    /// The version of the libgit2 library msgit runs with, e.g. "1.5.1".
    public static var libgit2Version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        git_libgit2_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
