#ifndef MSGIT_SUPPORT_H
#define MSGIT_SUPPORT_H

/*
 * What libgit2 1.5.1 lacks and msgit adds in C:
 *
 * - A socket stream with a connect timeout, an idle (read/write) timeout and prompt cancellation.
 *   libgit2 1.5.1 has no timeouts: a server that accepts and never answers hangs a clone forever.
 *   It is registered once as GIT_STREAM_STANDARD; libgit2's own TLS stream (mbedTLS) wraps it for
 *   https, so both schemes get the same behaviour.
 *
 * - The timeouts and the cancellation flag are per operation. libgit2 runs an operation synchronously
 *   on the calling thread and creates its streams there, so the operation's settings travel in a
 *   thread-local "operation context" installed around each libgit2 call.
 *
 * - Non-variadic wrappers for git_libgit2_opts, which Swift cannot call.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Why an operation's stream failed, so the Swift side can map it to a typed error. */
typedef enum {
    MSGIT_STREAM_OK = 0,
    MSGIT_STREAM_CONNECT_TIMEOUT = 1,
    MSGIT_STREAM_IDLE_TIMEOUT = 2,
    MSGIT_STREAM_CANCELLED = 3,
    /* A request would have gone to another origin than the one the credential is for. */
    MSGIT_STREAM_OFF_ORIGIN = 4,
    /* The connection moved too few bytes over a stretch of the idle limit (the low-speed limit). */
    MSGIT_STREAM_TOO_SLOW = 5,
    /* The TLS handshake or the server's certificate failed. */
    MSGIT_STREAM_TLS = 6,
} msgit_stream_failure;

/* One per libgit2 operation. Created and freed by Swift; cancel may be called from any thread. */
typedef struct msgit_operation msgit_operation;

msgit_operation *msgit_operation_new(int connect_timeout_ms, int idle_timeout_ms);
void msgit_operation_free(msgit_operation *op);

/* Thread-safe; makes blocked socket waits of this operation return within ~50 ms. */
void msgit_operation_cancel(msgit_operation *op);
int msgit_operation_is_cancelled(const msgit_operation *op);

/* The first failure a stream of this operation hit (an msgit_stream_failure). */
int msgit_operation_failure(const msgit_operation *op);

/*
 * From now on, requests of this operation may go only to `host` at `port` (or `upgrade_port`, -1
 * for none: 443 when the origin is plain http, so that an upgrade to https on the same host keeps
 * working). Called when a credential is handed to libgit2: libgit2 1.5.1 sends a credential it
 * holds to wherever a redirect leads. A stream to anywhere else fails before its first byte.
 */
void msgit_operation_restrict(msgit_operation *op, const char *host, int port, int upgrade_port);

/* The host and port the last request of this operation went to (copied into `host`, `size`
 * bytes at most); 0 when none went anywhere yet. */
int msgit_operation_last_endpoint(msgit_operation *op, char *host, size_t size, int *port);

/* Bytes read and written by the streams of this operation (all connections). */
uint64_t msgit_operation_bytes_read(const msgit_operation *op);

/* Installs op as the current thread's operation (NULL to clear). Streams created on this thread
 * while it is installed use its timeouts and its cancellation flag. */
void msgit_operation_enter(msgit_operation *op);
void msgit_operation_leave(void);

/* Registers the socket stream as libgit2's GIT_STREAM_STANDARD and msgit's TLS stream (OpenSSL)
 * as GIT_STREAM_TLS. Call once, after git_libgit2_init. */
int msgit_stream_register(void);

/* Adds a CA file and/or directory the TLS stream trusts beside the system's (GIT_SSL_CAINFO). */
void msgit_tls_add_ca_locations(const char *file, const char *path);

/* "OpenSSL 3.0.19 1 Jul 2025": the TLS library of msgit's git connections. */
const char *msgit_tls_library(void);

/* "mbedTLS", "OpenSSL", "GnuTLS", "none" (no https) or "unknown": the TLS library of the loaded libgit2. */
const char *msgit_libgit2_tls_backend(void);

/*
 * For the fuzz target: runs `data` (an HTTP response as a server would send it, handed over in
 * pieces of `piece` bytes) through the response filter libgit2's reads pass through, after a
 * request. Returns the bytes the filter handed over (up to `capacity` copied to `out`), or -1 when
 * it refused the response.
 */
long msgit_response_filter_run(const unsigned char *data, size_t length, size_t piece, unsigned char *out, size_t capacity);

/* git_libgit2_opts wrappers. */
int msgit_opts_set_ssl_cert_locations(const char *file, const char *path);
int msgit_opts_set_user_agent(const char *user_agent);
int msgit_opts_set_owner_validation(int enabled);
int msgit_opts_set_mwindow_mapped_limit(size_t limit);
int msgit_opts_set_strict_hash_verification(int enabled);

#ifdef __cplusplus
}
#endif

#endif
