/*
 * What the C files of CGitSupport share: the operation, the socket stream, and the filter every
 * plaintext HTTP response passes through before libgit2 reads it. Not part of the module's API.
 */
#ifndef MSGIT_INTERNAL_H
#define MSGIT_INTERNAL_H

#include "msgit_support.h"

#include <git2.h>
#include <git2/sys/stream.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* How often a blocked wait looks at the cancellation flag. */
#define MSGIT_POLL_SLICE_MS 50

/* The longest host name a stream remembers (DNS names are at most 253 bytes). */
#define MSGIT_HOST_MAX 256

/*
 * The low-speed limit (curl's CURLOPT_LOW_SPEED_LIMIT, in spirit): a connection that, over a
 * stretch of the idle limit spent waiting on it, moves fewer than this many bytes a second on
 * average is given up. An idle limit alone is reset by any byte, so a server sending one a second
 * would hold a clone forever. 16 bytes a second is below anything a real transfer does: git's
 * side-band progress lines, which keep a connection alive while a server counts objects, come at
 * several times that.
 */
#define MSGIT_LOW_SPEED_BYTES_PER_SECOND 16

/* The most a response's header block may take; a larger one is an error, not a memory sink. */
#define MSGIT_MAX_HEADER_BYTES (64 * 1024)

struct msgit_operation {
    atomic_int refcount;
    atomic_int cancelled;
    atomic_int failure;
    atomic_uint_fast64_t bytes_read;
    int connect_timeout_ms;
    int idle_timeout_ms;
    /*
     * Where requests may go once a credential was handed to libgit2 (see msgit_operation_restrict).
     * Written and read on the operation's thread only, under `lock` for the Swift side's reads.
     */
    pthread_mutex_t lock;
    int restricted;
    char allowed_host[MSGIT_HOST_MAX];
    int allowed_port;
    int upgrade_port;
    /* The endpoint (host, port) the last request of this operation went to. */
    char last_host[MSGIT_HOST_MAX];
    int last_port;
};

/*
 * Every HTTP response libgit2 reads passes through one of these, on the plaintext side (the
 * socket stream for http, msgit's TLS stream for https), so that:
 *
 * - a response's headers must all arrive within the idle limit of the first read after the
 *   request (a server that trickles a header byte a second is given up), and may not exceed
 *   MSGIT_MAX_HEADER_BYTES;
 * - `WWW-Authenticate` is removed from every response but a 401. libgit2 1.5.1 keeps the
 *   challenges of any response and, on its next request without a credential, dereferences the
 *   credential it does not have (httpclient.c, best_scheme_and_challenge): a redirect or a 200
 *   carrying `WWW-Authenticate: Basic` crashed the process. Only a 401's challenges mean anything.
 */
typedef struct {
    /* A request was written; its response's header block is due. */
    int expecting;
    /* When the header block must be complete (0: its first read has not started). */
    int64_t deadline;
    /* Header bytes gathered so far. */
    char *buffer;
    size_t length;
    /* Filtered bytes waiting to be handed to libgit2. */
    char *out;
    size_t out_length;
    size_t out_position;
} msgit_response_filter;

/* Reads up to `len` raw bytes, waiting until `deadline` at the latest (0: the stream's own idle
 * limit). Returns the count, 0 at the end of the stream, or -1 with a libgit2 error set. */
typedef ssize_t (*msgit_raw_read)(void *context, void *data, size_t len, int64_t deadline);

/* Notes a write: a new request (it starts with an HTTP method) makes a response due. */
void msgit_filter_wrote(msgit_response_filter *filter, const char *data, size_t len);

/* Hands over the next bytes of the response, filtering its header block. */
ssize_t msgit_filter_read(msgit_response_filter *filter, msgit_operation *op, msgit_raw_read read, void *context,
                          void *data, size_t len);

void msgit_filter_free(msgit_response_filter *filter);

/* Whether `data` starts an HTTP/1.1 request (a method and a space). */
int msgit_is_request_start(const char *data, size_t len);

typedef struct {
    git_stream parent;
    msgit_operation *op;
    char *host;
    char *port;
    int fd;
    /* The stream's first bytes were checked against the operation's allowed origin. */
    int checked;
    /* The first bytes were a proxy's CONNECT: every CONNECT on it is checked. */
    int proxy;
    /* The stream carries plaintext HTTP (not TLS records): its responses are filtered here. */
    int plaintext;
    msgit_response_filter filter;
    /* A deadline a reader above (msgit's TLS stream) sets for the reads it makes (0: none). */
    int64_t read_deadline;
    /* The low-speed window: time spent waiting on this stream, and bytes moved, since it began. */
    int64_t window_waited_ms;
    uint64_t window_bytes;
    /* A TLS stream above counts the plaintext bytes (a record carrying one byte is ~25 bytes on
     * the wire, which would let a server trickle past the low-speed limit). */
    int plaintext_counted_above;
} msgit_socket_stream;

/* For the TLS stream above: counts `n` plaintext bytes in the socket's low-speed window. */
void msgit_socket_count_plaintext(msgit_socket_stream *st, size_t n);

int64_t msgit_now_ms(void);
void msgit_record_failure(msgit_operation *op, msgit_stream_failure failure);

/* The socket stream: created as libgit2's standard stream, and by the TLS stream beneath it. */
int msgit_socket_stream_new(git_stream **out, const char *host, const char *port);
int msgit_is_socket_stream(const git_stream *stream);

/* The TLS stream (tls.c), registered as GIT_STREAM_TLS. */
int msgit_tls_stream_new(git_stream **out, const char *host, const char *port);
int msgit_tls_stream_wrap(git_stream **out, git_stream *in, const char *host);

#endif
