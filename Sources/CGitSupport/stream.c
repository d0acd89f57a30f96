/*
 * A git_stream over a TCP socket with a connect timeout, an idle timeout and cancellation.
 * See include/msgit_support.h for why it exists.
 */
#define _GNU_SOURCE
#include "msgit_support.h"

#include <git2.h>
#include <git2/sys/stream.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How often a blocked wait looks at the cancellation flag. */
#define MSGIT_POLL_SLICE_MS 50

struct msgit_operation {
    atomic_int refcount;
    atomic_int cancelled;
    atomic_int failure;
    atomic_uint_fast64_t bytes_read;
    int connect_timeout_ms;
    int idle_timeout_ms;
};

/* Used when a stream is made outside any operation (a plain GitCore call). */
static struct msgit_operation default_operation = {
    .refcount = 1, .connect_timeout_ms = 30 * 1000, .idle_timeout_ms = 300 * 1000,
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
    return op;
}

static void operation_retain(msgit_operation *op)
{
    if (op != &default_operation)
        atomic_fetch_add(&op->refcount, 1);
}

static void operation_release(msgit_operation *op)
{
    if (op != &default_operation && atomic_fetch_sub(&op->refcount, 1) == 1)
        free(op);
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

static void record_failure(msgit_operation *op, msgit_stream_failure failure)
{
    int expected = MSGIT_STREAM_OK;
    atomic_compare_exchange_strong(&op->failure, &expected, (int)failure);
}

typedef struct {
    git_stream parent;
    msgit_operation *op;
    char *host;
    char *port;
    int fd;
} msgit_socket_stream;

static int64_t now_ms(void)
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
        int64_t remaining = deadline - now_ms();
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
    record_failure(st->op, MSGIT_STREAM_CANCELLED);
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
    int64_t deadline = now_ms() + st->op->connect_timeout_ms;
    int64_t next_start = 0;

    for (;;) {
        if (atomic_load(&st->op->cancelled)) {
            close_all(pending, npending);
            freeaddrinfo(info);
            return fail_cancelled(st);
        }
        int64_t now = now_ms();
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
            record_failure(st->op, MSGIT_STREAM_CONNECT_TIMEOUT);
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
    record_failure(st->op, MSGIT_STREAM_IDLE_TIMEOUT);
    snprintf(msg, sizeof(msg), "%s %s:%s timed out: no data for %d s", what, st->host, st->port,
             st->op->idle_timeout_ms / 1000);
    git_error_set_str(GIT_ERROR_NET, msg);
    return -1;
}

static ssize_t msgit_stream_read(git_stream *stream, void *data, size_t len)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    int64_t deadline = now_ms() + st->op->idle_timeout_ms;
    for (;;) {
        ssize_t n = recv(st->fd, data, len, 0);
        if (n >= 0) {
            atomic_fetch_add(&st->op->bytes_read, (uint64_t)n);
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
        int ready = wait_ready(st->op, st->fd, POLLIN, deadline);
        if (ready == -2)
            return fail_cancelled(st);
        if (ready == 0)
            return idle_timeout_error(st, "reading from");
        if (ready < 0) {
            git_error_set_str(GIT_ERROR_NET, "poll failed while reading");
            return -1;
        }
    }
}

static ssize_t msgit_stream_write(git_stream *stream, const char *data, size_t len, int flags)
{
    msgit_socket_stream *st = (msgit_socket_stream *)stream;
    (void)flags;
    size_t off = 0;
    int64_t deadline = now_ms() + st->op->idle_timeout_ms;
    /* libgit2's callers expect the whole buffer to be written, as its own stream does with send(). */
    while (off < len) {
        ssize_t n = send(st->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            deadline = now_ms() + st->op->idle_timeout_ms;
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
        int ready = wait_ready(st->op, st->fd, POLLOUT, deadline);
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
    operation_release(st->op);
    free(st->host);
    free(st->port);
    free(st);
}

static int msgit_stream_new(git_stream **out, const char *host, const char *port)
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
    registration.init = msgit_stream_new;
    return git_stream_register(GIT_STREAM_STANDARD, &registration);
}
