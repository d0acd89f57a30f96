#ifndef MSGIT_HTTP_EXCHANGE_H
#define MSGIT_HTTP_EXCHANGE_H

/*
 * One HTTP exchange whose answer is read whole, with libcurl, bounded as it arrives.
 *
 * FoundationNetworking reads a response as fast as the socket gives it and queues every chunk for
 * the delegate without back-pressure: a cap checked by the delegate is checked after the bytes
 * are in memory (a 1 GiB batch answer took 1.1-2.2 GB although msgit stopped at 64 MiB, and
 * neither cancelling nor suspending the task stops what is already queued). Here the body goes
 * to a buffer through libcurl's write callback, which refuses the first byte past the limit, so
 * libcurl stops reading then: memory is the limit. The same exchange has a connect limit, an
 * idle and low-speed limit (fewer than 16 bytes a second over the idle limit), a limit on the
 * time to the response's headers and on their size, cancellation from any thread within
 * milliseconds, http and https only, and no redirect followed (the caller decides, with its
 * credential rules).
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MSGIT_HTTP_OK = 0,
    /* Connecting, the headers, or the body took too long or went too slowly. */
    MSGIT_HTTP_TIMEOUT = 1,
    MSGIT_HTTP_CANCELLED = 2,
    /* The body, or the header block, is larger than allowed. */
    MSGIT_HTTP_TOO_LARGE = 3,
    /* Anything else on the way (resolving, connecting, TLS, a connection cut): see the message. */
    MSGIT_HTTP_TRANSPORT = 4,
} msgit_http_result;

typedef struct msgit_http_exchange msgit_http_exchange;

/* Connections, DNS answers and TLS sessions shared by the exchanges of one client (a libcurl
 * share), so that the batch requests of a pass reuse one connection instead of each opening its
 * own. Thread-safe. */
typedef struct msgit_http_pool msgit_http_pool;
msgit_http_pool *msgit_http_pool_new(void);
void msgit_http_pool_free(msgit_http_pool *pool);

msgit_http_exchange *msgit_http_new(const char *method, const char *url);
void msgit_http_free(msgit_http_exchange *exchange);

/* A request header line, "Name: value". */
void msgit_http_add_header(msgit_http_exchange *exchange, const char *line);
void msgit_http_set_body(msgit_http_exchange *exchange, const void *data, size_t length);
void msgit_http_set_user_agent(msgit_http_exchange *exchange, const char *user_agent);
/* The most body bytes accepted; the connect limit, and the idle limit (also the limit on the
 * headers' arrival and the low-speed window), in milliseconds. */
void msgit_http_set_limits(msgit_http_exchange *exchange, size_t max_body, long connect_ms, long idle_ms);

/* With `truncate`, a body over the limit ends the exchange successfully with its first bytes
 * (for a probe that reads only the start of an answer); without, it is MSGIT_HTTP_TOO_LARGE. */
void msgit_http_set_truncate(msgit_http_exchange *exchange, int truncate);

/* The request body read from `fd` (from offset 0, `size` bytes) as libcurl sends it, in reads
 * of up to 2 MiB with no copy of ours: an upload of a large file. The method stays the one given
 * (PUT for a storage href). The descriptor stays the caller's; it must outlive perform. */
void msgit_http_set_upload_file(msgit_http_exchange *exchange, int fd, int64_t size);

/* Called on perform's thread as the request body goes out, with the bytes sent so far. */
typedef void (*msgit_http_sent_callback)(void *context, int64_t sent);
void msgit_http_set_sent_callback(msgit_http_exchange *exchange, msgit_http_sent_callback callback, void *context);

/* A response body streamed to the caller instead of kept: a download. When the first byte of the
 * body comes (status and headers are readable then), `accept` says whether the caller takes this
 * answer (1) or not (0: an error page, a redirect, a 200 to a Range request); a body not taken is
 * not read, and the exchange ends successfully with the status and headers. A body taken goes to
 * `write` piece by piece as libcurl reads it, on perform's thread, with no limit of ours and no
 * copy: libcurl reads no more from the socket until `write` returns, so a disk slower than the
 * link slows the link (TCP's window closes) instead of filling memory. `write` returns 0 to go on;
 * anything else ends the exchange (MSGIT_HTTP_TRANSPORT; the caller knows its own reason). */
typedef int (*msgit_http_accept_callback)(void *context, long status);
typedef int (*msgit_http_write_callback)(void *context, const void *data, size_t length);
void msgit_http_set_body_stream(msgit_http_exchange *exchange, msgit_http_accept_callback accept,
                                msgit_http_write_callback write, void *context);

/* The pool whose connections the exchange uses (it must outlive the exchange's perform). */
void msgit_http_set_pool(msgit_http_exchange *exchange, msgit_http_pool *pool);

/* Runs the exchange, blocking the calling thread. */
msgit_http_result msgit_http_perform(msgit_http_exchange *exchange);
/* From any thread: makes a running perform return MSGIT_HTTP_CANCELLED within milliseconds. */
void msgit_http_cancel(msgit_http_exchange *exchange);

long msgit_http_status(const msgit_http_exchange *exchange);
/* The header block of the final response (raw lines, "Name: value\r\n"). */
const char *msgit_http_headers(const msgit_http_exchange *exchange, size_t *length);
const void *msgit_http_body(const msgit_http_exchange *exchange, size_t *length);
/* Why perform failed, in words. */
const char *msgit_http_error(const msgit_http_exchange *exchange);
/* Seconds from the start to the response's first byte, and to its end. */
double msgit_http_wait_seconds(const msgit_http_exchange *exchange);
double msgit_http_total_seconds(const msgit_http_exchange *exchange);
/* Seconds from the request's last byte to the answer's first: a round trip and the server's work,
 * never a handshake (for a request without a body, from when the connection was ready). */
double msgit_http_answer_seconds(const msgit_http_exchange *exchange);

#ifdef __cplusplus
}
#endif

#endif
