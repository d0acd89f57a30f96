/*
 * msgit's TLS stream for libgit2 (GIT_STREAM_TLS), with OpenSSL, over msgit's socket stream.
 *
 * Why not libgit2's own (mbedTLS in Debian's build): msgit has to see the plaintext of the HTTP
 * responses libgit2 reads, to filter them (msgit_response_filter: a response carrying
 * WWW-Authenticate that is not a 401 crashed libgit2 1.5.1) and to give a response's headers a
 * time limit. With libgit2's TLS stream in between, the socket stream sees only records.
 *
 * OpenSSL is already in every msgit process (libcurl, under URLSession, uses it), verifies host
 * names and IP addresses, and enforces a CA's name constraints (mbedTLS 2.28 does neither of the
 * last two). Trust: the system's store (OpenSSL's default paths, which honour SSL_CERT_FILE and
 * SSL_CERT_DIR), plus GIT_SSL_CAINFO / GIT_OPT_SET_SSL_CERT_LOCATIONS as git honours them.
 * TLS 1.2 at least; the server's certificate must verify for the host name.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    git_stream parent;
    /* The stream the records travel on: msgit's socket stream, or a proxy's CONNECT tunnel. */
    git_stream *io;
    int owns_io;
    char *host;
    SSL *ssl;
    int connected;
    msgit_operation *op;
    msgit_response_filter filter;
} msgit_tls_stream;

static pthread_mutex_t context_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *shared_context = NULL;
static char *extra_ca_file = NULL;
static char *extra_ca_path = NULL;
static BIO_METHOD *stream_bio_method = NULL;

void msgit_tls_add_ca_locations(const char *file, const char *path)
{
    pthread_mutex_lock(&context_lock);
    free(extra_ca_file);
    free(extra_ca_path);
    extra_ca_file = file && *file ? strdup(file) : NULL;
    extra_ca_path = path && *path ? strdup(path) : NULL;
    if (shared_context) {
        /* Contexts made before keep serving their connections; new ones get the new trust. */
        SSL_CTX_free(shared_context);
        shared_context = NULL;
    }
    pthread_mutex_unlock(&context_lock);
}

const char *msgit_tls_library(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

/* The BIO that carries OpenSSL's records over a git_stream (with its timeouts and cancellation). */
static int bio_write(BIO *bio, const char *data, int len)
{
    git_stream *io = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t n = io->write(io, data, (size_t)len, 0);
    return n < 0 ? -1 : (int)n;
}

static int bio_read(BIO *bio, char *data, int len)
{
    git_stream *io = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t n = io->read(io, data, (size_t)len);
    return n < 0 ? -1 : (int)n;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)bio;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    BIO_set_data(bio, NULL);
    return 1;
}

static int bio_destroy(BIO *bio)
{
    (void)bio;
    return 1;
}

/* The shared context, made once (again after the CA locations change). NULL with an error set. */
static SSL_CTX *context(void)
{
    pthread_mutex_lock(&context_lock);
    if (!stream_bio_method) {
        stream_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "msgit git_stream");
        BIO_meth_set_write(stream_bio_method, bio_write);
        BIO_meth_set_read(stream_bio_method, bio_read);
        BIO_meth_set_ctrl(stream_bio_method, bio_ctrl);
        BIO_meth_set_create(stream_bio_method, bio_create);
        BIO_meth_set_destroy(stream_bio_method, bio_destroy);
    }
    if (!shared_context) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (ctx) {
            SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
            /* A peer that closes without close_notify ends the stream (libgit2 knows from the
             * HTTP framing whether the answer was whole), as libgit2's own streams treat it. */
            SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
            SSL_CTX_set_default_verify_paths(ctx);
            if (extra_ca_file || extra_ca_path)
                SSL_CTX_load_verify_locations(ctx, extra_ca_file, extra_ca_path);
        }
        shared_context = ctx;
    }
    SSL_CTX *ctx = shared_context;
    if (ctx)
        SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&context_lock);
    if (!ctx)
        git_error_set_str(GIT_ERROR_SSL, "cannot set up TLS (OpenSSL)");
    return ctx;
}

/* OpenSSL's reason for the last failure, or what the stream underneath said. */
static int tls_error(msgit_tls_stream *st, const char *what, int ret)
{
    const git_error *below = git_error_last();
    int code = SSL_get_error(st->ssl, ret);
    unsigned long queued = ERR_peek_last_error();
    char msg[1024];
    long verify = SSL_get_verify_result(st->ssl);
    if (verify != X509_V_OK && !st->connected) {
        snprintf(msg, sizeof(msg), "%s: the certificate of %s is not trusted: %s", what, st->host,
                 X509_verify_cert_error_string(verify));
        msgit_record_failure(st->op, MSGIT_STREAM_TLS);
        git_error_set_str(GIT_ERROR_SSL, msg);
        ERR_clear_error();
        return GIT_ECERTIFICATE;
    }
    if ((code == SSL_ERROR_SYSCALL || code == SSL_ERROR_SSL) && queued == 0 && below && below->message) {
        /* The socket stream gave up (timeout, cancellation, a refused destination): its words. */
        ERR_clear_error();
        return -1;
    }
    if (queued) {
        char reason[256];
        ERR_error_string_n(queued, reason, sizeof(reason));
        snprintf(msg, sizeof(msg), "%s with %s: %s", what, st->host, reason);
    } else if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ret == 0)) {
        snprintf(msg, sizeof(msg), "%s with %s: the connection was closed", what, st->host);
    } else {
        snprintf(msg, sizeof(msg), "%s with %s failed (OpenSSL error %d)", what, st->host, code);
    }
    if (!st->connected)
        msgit_record_failure(st->op, MSGIT_STREAM_TLS);
    git_error_set_str(GIT_ERROR_SSL, msg);
    ERR_clear_error();
    return -1;
}

static int tls_connect(git_stream *stream)
{
    msgit_tls_stream *st = (msgit_tls_stream *)stream;
    if (st->owns_io && st->io->connect(st->io) < 0)
        return -1;
    SSL_CTX *ctx = context();
    if (!ctx)
        return -1;
    st->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    if (!st->ssl) {
        git_error_set_str(GIT_ERROR_SSL, "cannot set up TLS (OpenSSL)");
        return -1;
    }
    BIO *bio = BIO_new(stream_bio_method);
    if (!bio) {
        git_error_set_oom();
        return -1;
    }
    BIO_set_data(bio, st->io);
    SSL_set_bio(st->ssl, bio, bio);

    /* The name the certificate must carry: an IP address, or a host name (also sent as SNI). */
    unsigned char address[16];
    X509_VERIFY_PARAM *param = SSL_get0_param(st->ssl);
    if (inet_pton(AF_INET, st->host, address) == 1 || inet_pton(AF_INET6, st->host, address) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(param, st->host);
    } else {
        SSL_set_tlsext_host_name(st->ssl, st->host);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!X509_VERIFY_PARAM_set1_host(param, st->host, 0)) {
            git_error_set_str(GIT_ERROR_SSL, "cannot check the server's certificate for this host name");
            return -1;
        }
    }
    git_error_clear();
    int ret = SSL_connect(st->ssl);
    if (ret != 1)
        return tls_error(st, "TLS handshake", ret);
    st->connected = 1;
    return 0;
}

/* The raw read of the filter: SSL_read, with the header deadline handed to the socket below. */
static ssize_t tls_raw_read(void *context, void *data, size_t len, int64_t deadline)
{
    msgit_tls_stream *st = context;
    msgit_socket_stream *socket = msgit_is_socket_stream(st->io) ? (msgit_socket_stream *)st->io : NULL;
    if (socket)
        socket->read_deadline = deadline;
    int chunk = len > INT32_MAX ? INT32_MAX : (int)len;
    git_error_clear();
    int ret = SSL_read(st->ssl, data, chunk);
    if (socket)
        socket->read_deadline = 0;
    if (ret > 0) {
        if (socket)
            msgit_socket_count_plaintext(socket, (size_t)ret);
        return ret;
    }
    if (SSL_get_error(st->ssl, ret) == SSL_ERROR_ZERO_RETURN)
        return 0;
    tls_error(st, "reading", ret);
    return -1;
}

static ssize_t tls_read(git_stream *stream, void *data, size_t len)
{
    msgit_tls_stream *st = (msgit_tls_stream *)stream;
    return msgit_filter_read(&st->filter, st->op, tls_raw_read, st, data, len);
}

static ssize_t tls_write(git_stream *stream, const char *data, size_t len, int flags)
{
    msgit_tls_stream *st = (msgit_tls_stream *)stream;
    (void)flags;
    msgit_filter_wrote(&st->filter, data, len);
    size_t off = 0;
    while (off < len) {
        size_t left = len - off;
        int chunk = left > INT32_MAX ? INT32_MAX : (int)left;
        git_error_clear();
        int ret = SSL_write(st->ssl, data + off, chunk);
        if (ret <= 0)
            return tls_error(st, "writing", ret);
        off += (size_t)ret;
        if (msgit_is_socket_stream(st->io))
            msgit_socket_count_plaintext((msgit_socket_stream *)st->io, (size_t)ret);
    }
    return (ssize_t)len;
}

static int tls_close(git_stream *stream)
{
    msgit_tls_stream *st = (msgit_tls_stream *)stream;
    if (st->ssl && st->connected)
        SSL_shutdown(st->ssl); /* a close_notify, best effort; no wait for the answer */
    st->connected = 0;
    return st->owns_io ? st->io->close(st->io) : 0;
}

static void tls_free(git_stream *stream)
{
    msgit_tls_stream *st = (msgit_tls_stream *)stream;
    if (st->ssl)
        SSL_free(st->ssl);
    if (st->owns_io)
        st->io->free(st->io);
    msgit_filter_free(&st->filter);
    free(st->host);
    free(st);
}

static int tls_new(git_stream **out, git_stream *io, int owns_io, const char *host)
{
    msgit_tls_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        git_error_set_oom();
        return -1;
    }
    st->io = io;
    st->owns_io = owns_io;
    /* IPv6 literals come bracketed from URLs; certificates name them bare. */
    size_t n = strlen(host);
    st->host = (n >= 2 && host[0] == '[' && host[n - 1] == ']') ? strndup(host + 1, n - 2) : strdup(host);
    st->op = msgit_is_socket_stream(io) ? ((msgit_socket_stream *)io)->op : NULL;
    if (st->op)
        ((msgit_socket_stream *)io)->plaintext_counted_above = 1;
    if (!st->host || !st->op) {
        free(st->host);
        free(st);
        git_error_set_str(GIT_ERROR_SSL, "msgit's TLS stream runs over msgit's socket stream only");
        return -1;
    }
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.encrypted = 1;
    st->parent.proxy_support = 0;
    st->parent.connect = tls_connect;
    st->parent.read = tls_read;
    st->parent.write = tls_write;
    st->parent.close = tls_close;
    st->parent.free = tls_free;
    *out = (git_stream *)st;
    return 0;
}

int msgit_tls_stream_new(git_stream **out, const char *host, const char *port)
{
    git_stream *io = NULL;
    if (msgit_socket_stream_new(&io, host, port) < 0)
        return -1;
    if (tls_new(out, io, 1, host) < 0) {
        io->free(io);
        return -1;
    }
    return 0;
}

int msgit_tls_stream_wrap(git_stream **out, git_stream *in, const char *host)
{
    return tls_new(out, in, 0, host);
}
