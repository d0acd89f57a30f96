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

/* Bytes read and written by the streams of this operation (all connections). */
uint64_t msgit_operation_bytes_read(const msgit_operation *op);

/* Installs op as the current thread's operation (NULL to clear). Streams created on this thread
 * while it is installed use its timeouts and its cancellation flag. */
void msgit_operation_enter(msgit_operation *op);
void msgit_operation_leave(void);

/* Registers the stream as libgit2's GIT_STREAM_STANDARD. Call once, after git_libgit2_init. */
int msgit_stream_register(void);

/* "mbedTLS", "OpenSSL", "GnuTLS", "none" (no https) or "unknown": the TLS library of the loaded libgit2. */
const char *msgit_libgit2_tls_backend(void);

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
