/* Which TLS library the libgit2 we run with uses, found at run time. */
#define _GNU_SOURCE
#include "msgit_support.h"

#include <dlfcn.h>
#include <git2.h>

const char *msgit_libgit2_tls_backend(void)
{
    if (!(git_libgit2_features() & GIT_FEATURE_HTTPS))
        return "none";
    /* The loaded libgit2, then the TLS functions its own dependencies provide (dlsym with a library's
     * handle searches that library and the ones it needs, not the rest of the process: libcurl's
     * OpenSSL, loaded for URLSession, does not count). */
    Dl_info info;
    if (!dladdr((void *)git_libgit2_init, &info) || !info.dli_fname)
        return "unknown";
    void *library = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!library)
        return "unknown";
    const char *backend = "unknown";
    if (dlsym(library, "mbedtls_ssl_init"))
        backend = "mbedTLS";
    else if (dlsym(library, "SSL_CTX_new"))
        backend = "OpenSSL";
    else if (dlsym(library, "gnutls_init"))
        backend = "GnuTLS";
    dlclose(library);
    return backend;
}
