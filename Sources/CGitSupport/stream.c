/*
 * A git_stream over a TCP socket with a connect timeout, an idle timeout, a low-speed limit,
 * cancellation, and the operation's rule of where a credential may go. See
 * include/msgit_support.h for why it exists, and internal.h for what it shares with tls.c.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Used when a stream is made outside any operation (a plain GitCore call). */
static struct msgit_operation default_operation = {
    .refcount = 1, .connect_timeout_ms = 30 * 1000, .idle_timeout_ms = 300 * 1000,
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static _Thread_local msgit_operation *current_operation = NULL;

msgit_operation *msgit_operation_new(int connect_timeout_ms, int idle_timeout_ms)
{
    msgit_operation *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    atomic_init(&op->refcount, 1);
    atomic_init(&op->cancelled, 0);
    atomic_init(&op->failure, MSGIT_STREAM_OK);
    atomic_init(&op->bytes_read, 0);
    op->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : default_operation.connect_timeout_ms;
    op->idle_timeout_ms = idle_timeout_ms > 0 ? idle_timeout_ms : default_operation.idle_timeout_ms;
    pthread_mutex_init(&op->lock, NULL);
    return op;
}

static void operation_retain(msgit_operation *op)
{
    if (op != &default_operation)
        atomic_fetch_add(&op->refcount, 1);
}

static void operation_release(msgit_operation *op)
{
    if (op != &default_operation && atomic_fetch_sub(&op->refcount, 1) == 1) {
        pthread_mutex_destroy(&op->lock);
        free(op);
    }
}

void msgit_operation_free(msgit_operation *op)
{
    if (op)
        operation_release(op);
}

void msgit_operation_cancel(msgit_operation *op) { atomic_store(&op->cancelled, 1); }
int msgit_operation_is_cancelled(const msgit_operation *op) { return atomic_load(&op->cancelled); }
int msgit_operation_failure(const msgit_operation *op) { return atomic_load(&op->failure); }
uint64_t msgit_operation_bytes_read(const msgit_operation *op) { return atomic_load(&op->bytes_read); }
void msgit_operation_enter(msgit_operation *op) { current_operation = op; }
void msgit_operation_leave(void) { current_operation = NULL; }

static void copy_host(char *out, const char *host)
{
    /* IPv6 literals come with or without brackets; compare them without. */
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len >= MSGIT_HOST_MAX)
        len = MSGIT_HOST_MAX - 1;
    memcpy(out, host, len);
    out[len] = '\0';
}

void msgit_operation_restrict(msgit_operation *op, const char *host, int port, int upgrade_port)
{
    pthread_mutex_lock(&op->lock);
    op->restricted = 1;
    copy_host(op->allowed_host, host);
    op->allowed_port = port;
    op->upgrade_port = upgrade_port;
    pthread_mutex_unlock(&op->lock);
}

int msgit_operation_last_endpoint(msgit_operation *op, char *host, size_t size, int *port)
{
    pthread_mutex_lock(&op->lock);
    int known = op->last_host[0] != '\0';
    if (known && size > 0) {
        strncpy(host, op->last_host, size - 1);
        host[size - 1] = '\0';
        *port = op->last_port;
    }
    pthread_mutex_unlock(&op->lock);
    return known;
}

void msgit_record_failure(msgit_operation *op, msgit_stream_failure failure)
{
    int expected = MSGIT_STREAM_OK;
    atomic_compare_exchange_strong(&op->failure, &expected, (int)failure);
}


int64_t msgit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for `events`, the deadline passes (returns 0) or the operation is
 * cancelled (returns -2). Returns 1 when ready, -1 on a poll error.
 */
static int wait_ready(msgit_operation *op, int fd, short events, int64_t deadline)
{
    for (;;) {
        if (atomic_load(&op->cancelled))
            return -2;
        int64_t remaining = deadline - msgit_now_ms();
        if (remaining <= 0)
            return 0;
        struct pollfd pfd = { .fd = fd, .events = events, .revents = 0 };
        int slice = remaining < MSGIT_POLL_SLICE_MS ? (int)remaining : MSGIT_POLL_SLICE_MS;
        int rc = poll(&pfd, 1, slice);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static int fail_cancelled(msgit_socket_stream *st)
{
    msgit_record_failure(st->op, MSGIT_STREAM_CANCELLED);
    git_error_set_str(GIT_ERROR_NET, "operation cancelled");
    return -1;
}

/*
 * Connecting: every address the name resolves to gets a chance within the connect limit, as
 * git (through curl) gives them. Addresses are tried in the resolver's order with the families
 * interleaved (RFC 8305: IPv6, IPv4, IPv6, ...); an attempt that has not finished after
 * MSGIT_ATTEMPT_DELAY_MS gets the next address started beside it, and the first connection to
 * complete wins. An address that does not answer at all (an IPv6 route black-holed, common in
 * containers) so costs a quarter of a second, not the whole limit.
 */
#define MSGIT_ATTEMPT_DELAY_MS 250
#define MSGIT_MAX_ADDRESSES 32

/* The addresses of `info`, families interleaved, starting with the first one's family. */
static int interleave_addresses(struct addrinfo *info, struct addrinfo **out)
{
    struct addrinfo *first[MSGIT_MAX_ADDRESSES], *other[MSGIT_MAX_ADDRESSES];
    int nfirst = 0, nother = 0, n = 0;
    int family = info ? info->ai_family : AF_UNSPEC;
    for (struct addrinfo *p = info; p != NULL; p = p->ai_next) {
        if (p->ai_family == family && nfirst < MSGIT_MAX_ADDRESSES)
            first[nfirst++] = p;
        else if (p->ai_family != family && nother < MSGIT_MAX_ADDRESSES)
            other[nother++] = p;
    }
    for (int i = 0; (i < nfirst || i < nother) && n < MSGIT_MAX_ADDRESSES; i++) {
        if (i < nfirst)
            out[n++] = first[i];
        if (i < nother && n < MSGIT_MAX_ADDRESSES)
            out[n++] = other[i];
    }
    return n;
}

static void close_all(int *fds, int count)
{
    for (int i = 0; i < count; i++)
        close(fds[i]);
}

static int msgit_stream_connect(git_stream *stream)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    struct addrinfo hints, *info = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;

    int rc = getaddrinfo(st->host, st->port, &hints, &info);
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "failed to resolve address for %s: %s", st->host, gai_strerror(rc));
        git_error_set_str(GIT_ERROR_NET, msg);
        return -1;
    }

    struct addrinfo *addresses[MSGIT_MAX_ADDRESSES];
    int count = interleave_addresses(info, addresses);
    int pending[MSGIT_MAX_ADDRESSES];
    int npending = 0, next = 0, last_errno = 0, timed_out = 0;
    int64_t deadline = msgit_now_ms() + st->op->connect_timeout_ms;
    int64_t next_start = 0;

    for (;;) {
        if (atomic_load(&st->op->cancelled)) {
            close_all(pending, npending);
            freeaddrinfo(info);
            return fail_cancelled(st);
        }
        int64_t now = msgit_now_ms();
        if (now >= deadline) {
            timed_out = 1;
            break;
        }
        /* Start the next address when nothing is under way, or the current attempts had their time. */
        if (next < count && (npending == 0 || now >= next_start)) {
            struct addrinfo *p = addresses[next++];
            int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
            if (fd < 0) {
                last_errno = errno;
                continue;
            }
            if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) {
                st->fd = fd;
                break;
            }
            if (errno != EINPROGRESS) {
                last_errno = errno;
                close(fd);
                continue;
            }
            pending[npending++] = fd;
            next_start = now + MSGIT_ATTEMPT_DELAY_MS;
            continue;
        }
        if (npending == 0)
            break; /* every address refused */

        struct pollfd pfds[MSGIT_MAX_ADDRESSES];
        for (int i = 0; i < npending; i++) {
            pfds[i].fd = pending[i];
            pfds[i].events = POLLOUT;
            pfds[i].revents = 0;
        }
        int64_t wait = deadline - now;
        if (next < count && next_start - now < wait)
            wait = next_start - now;
        if (wait > MSGIT_POLL_SLICE_MS)
            wait = MSGIT_POLL_SLICE_MS;
        int ready = poll(pfds, (nfds_t)npending, wait > 0 ? (int)wait : 0);
        if (ready < 0 && errno != EINTR) {
            last_errno = errno;
            break;
        }
        for (int i = npending - 1; ready > 0 && i >= 0; i--) {
            if (!pfds[i].revents)
                continue;
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            if (getsockopt(pending[i], SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
                st->fd = pending[i];
                pending[i] = pending[--npending];
                break;
            }
            last_errno = soerr ? soerr : errno;
            close(pending[i]);
            pending[i] = pending[--npending];
            next_start = now; /* a refusal hands its turn to the next address at once */
        }
        if (st->fd >= 0)
            break;
    }
    close_all(pending, npending);
    freeaddrinfo(info);

    if (st->fd < 0) {
        char msg[512];
        if (timed_out) {
            msgit_record_failure(st->op, MSGIT_STREAM_CONNECT_TIMEOUT);
            snprintf(msg, sizeof(msg), "connection to %s:%s timed out after %d s", st->host, st->port,
                     st->op->connect_timeout_ms / 1000);
        } else {
            snprintf(msg, sizeof(msg), "failed to connect to %s:%s: %s", st->host, st->port,
                     strerror(last_errno ? last_errno : ECONNREFUSED));
        }
        git_error_set_str(GIT_ERROR_NET, msg);
        return -1;
    }

    int one = 1;
    setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

static int idle_timeout_error(msgit_socket_stream *st, const char *what)
{
    char msg[512];
    msgit_record_failure(st->op, MSGIT_STREAM_IDLE_TIMEOUT);
    snprintf(msg, sizeof(msg), "%s %s:%s timed out: no data for %d s", what, st->host, st->port,
             st->op->idle_timeout_ms / 1000);
    git_error_set_str(GIT_ERROR_NET, msg);
    return -1;
}

/*
 * Counts `waited` milliseconds spent waiting and `moved` bytes against the low-speed limit;
 * -1 (error set) when a whole window of the idle limit's length moved too little.
 */
static int count_progress(msgit_socket_stream *st, int64_t waited, uint64_t moved)
{
    st->window_waited_ms += waited;
    if (!st->plaintext_counted_above)
        st->window_bytes += moved;
    int64_t window = st->op->idle_timeout_ms;
    if (st->window_waited_ms < window)
        return 0;
    uint64_t expected = (uint64_t)(st->window_waited_ms / 1000) * MSGIT_LOW_SPEED_BYTES_PER_SECOND;
    if (st->window_bytes < expected) {
        char msg[512];
        msgit_record_failure(st->op, MSGIT_STREAM_TOO_SLOW);
        snprintf(msg, sizeof(msg), "the connection to %s:%s is too slow: %llu bytes in %lld s of waiting "
                 "(fewer than %d a second)", st->host, st->port, (unsigned long long)st->window_bytes,
                 (long long)(st->window_waited_ms / 1000), MSGIT_LOW_SPEED_BYTES_PER_SECOND);
        git_error_set_str(GIT_ERROR_NET, msg);
        return -1;
    }
    st->window_waited_ms = 0;
    st->window_bytes = 0;
    return 0;
}

void msgit_socket_count_plaintext(msgit_socket_stream *st, size_t n)
{
    st->window_bytes += n;
}

/* The socket's own read (msgit_raw_read): `deadline`, when earlier than the idle limit, is when a
 * response's headers are due. */
static ssize_t socket_read(void *context, void *data, size_t len, int64_t deadline)
{
    msgit_socket_stream *st = context;
    int64_t idle_deadline = msgit_now_ms() + st->op->idle_timeout_ms;
    int64_t limit = idle_deadline;
    if (deadline && deadline < limit)
        limit = deadline;
    if (st->read_deadline && st->read_deadline < limit)
        limit = st->read_deadline;
    for (;;) {
        ssize_t n = recv(st->fd, data, len, 0);
        if (n >= 0) {
            atomic_fetch_add(&st->op->bytes_read, (uint64_t)n);
            if (count_progress(st, 0, (uint64_t)n) < 0)
                return -1;
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            char msg[512];
            snprintf(msg, sizeof(msg), "error reading from %s:%s: %s", st->host, st->port, strerror(errno));
            git_error_set_str(GIT_ERROR_NET, msg);
            return -1;
        }
        int64_t started = msgit_now_ms();
        int ready = wait_ready(st->op, st->fd, POLLIN, limit);
        if (count_progress(st, msgit_now_ms() - started, 0) < 0)
            return -1;
        if (ready == -2)
            return fail_cancelled(st);
        if (ready == 0) {
            if (limit == idle_deadline)
                return idle_timeout_error(st, "reading from");
            char msg[512];
            msgit_record_failure(st->op, MSGIT_STREAM_IDLE_TIMEOUT);
            snprintf(msg, sizeof(msg), "%s:%s did not send a whole response's headers within %d s", st->host,
                     st->port, st->op->idle_timeout_ms / 1000);
            git_error_set_str(GIT_ERROR_NET, msg);
            return -1;
        }
        if (ready < 0) {
            git_error_set_str(GIT_ERROR_NET, "poll failed while reading");
            return -1;
        }
    }
}

static ssize_t msgit_stream_read(git_stream *stream, void *data, size_t len)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    return msgit_filter_read(&st->filter, st->op, socket_read, st, data, len);
}

/*
 * Where a request on this stream goes: the stream's own host and port, or, for a proxy, the
 * target of the CONNECT it writes ("CONNECT host:port HTTP/1.1"). Returns 0 when `data` is a
 * CONNECT that cannot be read.
 */
static int request_target(msgit_socket_stream *st, const char *data, size_t len, char *host, int *port)
{
    if (len >= 8 && memcmp(data, "CONNECT ", 8) == 0) {
        st->proxy = 1;
        const char *start = data + 8, *end = memchr(start, ' ', len - 8);
        if (!end)
            return 0;
        const char *colon = NULL;
        for (const char *p = end - 1; p > start; p--) {
            if (*p == ':') { colon = p; break; }
            if (*p == ']') break;
        }
        if (!colon || (size_t)(colon - start) >= MSGIT_HOST_MAX)
            return 0;
        char buffer[MSGIT_HOST_MAX];
        memcpy(buffer, start, (size_t)(colon - start));
        buffer[colon - start] = '\0';
        copy_host(host, buffer);
        *port = atoi(colon + 1);
        return 1;
    }
    copy_host(host, st->host);
    *port = atoi(st->port);
    return 1;
}

/*
 * Called before a stream's first bytes (and before every CONNECT through a proxy): records where
 * the request goes and, once a credential was handed to libgit2 for one origin, refuses any
 * other. libgit2 1.5.1 keeps the credential it was given and sends it again to wherever a
 * redirect leads when the answer carries WWW-Authenticate, without asking the credential
 * callback; this is below anything libgit2 decides, so nothing goes round it. Nothing has been
 * sent on the stream when it refuses.
 */
static int check_destination(msgit_socket_stream *st, const char *data, size_t len)
{
    msgit_operation *op = st->op;
    char host[MSGIT_HOST_MAX];
    int port = 0;
    if (!request_target(st, data, len, host, &port)) {
        git_error_set_str(GIT_ERROR_NET, "refusing a proxy request msgit cannot read");
        return -1;
    }
    pthread_mutex_lock(&op->lock);
    memcpy(op->last_host, host, sizeof(host));
    op->last_port = port;
    int allowed = !op->restricted ||
        (strcasecmp(host, op->allowed_host) == 0 && (port == op->allowed_port || port == op->upgrade_port));
    char allowed_host[MSGIT_HOST_MAX];
    memcpy(allowed_host, op->allowed_host, sizeof(allowed_host));
    int allowed_port = op->allowed_port;
    pthread_mutex_unlock(&op->lock);
    if (!allowed) {
        char msg[3 * MSGIT_HOST_MAX];
        snprintf(msg, sizeof(msg), "refusing to send a request to %s:%d: the credential of this operation is for %s:%d "
                 "only (a redirect to another host or port)", host, port, allowed_host, allowed_port);
        msgit_record_failure(op, MSGIT_STREAM_OFF_ORIGIN);
        git_error_set_str(GIT_ERROR_NET, msg);
        return -1;
    }
    return 0;
}

static ssize_t msgit_stream_write(git_stream *stream, const char *data, size_t len, int flags)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    (void)flags;
    if (!st->checked || (st->proxy && len >= 8 && memcmp(data, "CONNECT ", 8) == 0)) {
        if (check_destination(st, data, len) < 0)
            return -1;
        st->checked = 1;
    }
    /* Plaintext requests (http, and a proxy's CONNECT) make a response due, which is filtered
     * here; under TLS the requests are inside records and msgit's TLS stream filters them. */
    msgit_filter_wrote(&st->filter, data, len);
    size_t off = 0;
    int64_t deadline = msgit_now_ms() + st->op->idle_timeout_ms;
    /* libgit2's callers expect the whole buffer to be written, as its own stream does with send(). */
    while (off < len) {
        ssize_t n = send(st->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            deadline = msgit_now_ms() + st->op->idle_timeout_ms;
            if (count_progress(st, 0, (uint64_t)n) < 0)
                return -1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            char msg[512];
            snprintf(msg, sizeof(msg), "error writing to %s:%s: %s", st->host, st->port, strerror(errno));
            git_error_set_str(GIT_ERROR_NET, msg);
            return -1;
        }
        int64_t started = msgit_now_ms();
        int ready = wait_ready(st->op, st->fd, POLLOUT, deadline);
        if (count_progress(st, msgit_now_ms() - started, 0) < 0)
            return -1;
        if (ready == -2)
            return fail_cancelled(st);
        if (ready == 0)
            return idle_timeout_error(st, "writing to");
        if (ready < 0) {
            git_error_set_str(GIT_ERROR_NET, "poll failed while writing");
            return -1;
        }
    }
    return (ssize_t)len;
}

static int msgit_stream_close(git_stream *stream)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    return 0;
}

static void msgit_stream_free(git_stream *stream)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    msgit_stream_close(stream);
    msgit_filter_free(&st->filter);
    operation_release(st->op);
    free(st->host);
    free(st->port);
    free(st);
}

int msgit_socket_stream_new(git_stream **out, const char *host, const char *port)
{
    msgit_socket_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        git_error_set_oom();
        return -1;
    }
    st->host = strdup(host);
    st->port = strdup(port ? port : "80");
    if (!st->host || !st->port) {
        free(st->host);
        free(st->port);
        free(st);
        git_error_set_oom();
        return -1;
    }
    st->fd = -1;
    st->op = current_operation ? current_operation : &default_operation;
    operation_retain(st->op);

    st->parent.version = GIT_STREAM_VERSION;
    st->parent.encrypted = 0;
    st->parent.proxy_support = 0;
    st->parent.connect = msgit_stream_connect;
    st->parent.read = msgit_stream_read;
    st->parent.write = msgit_stream_write;
    st->parent.close = msgit_stream_close;
    st->parent.free = msgit_stream_free;
    *out = (git_stream *)st;
    return 0;
}

int msgit_stream_register(void)
{
    git_stream_registration registration;
    memset(&registration, 0, sizeof(registration));
    registration.version = GIT_STREAM_VERSION;
    registration.init = msgit_socket_stream_new;
    int rc = git_stream_register(GIT_STREAM_STANDARD, &registration);
    if (rc < 0)
        return rc;
    git_stream_registration tls;
    memset(&tls, 0, sizeof(tls));
    tls.version = GIT_STREAM_VERSION;
    tls.init = msgit_tls_stream_new;
    tls.wrap = msgit_tls_stream_wrap;
    return git_stream_register(GIT_STREAM_TLS, &tls);
}

int msgit_is_socket_stream(const git_stream *stream)
{
    return stream && stream->read == msgit_stream_read;
}
