/* See include/msgit_http_exchange.h. */
#define _GNU_SOURCE
#include "msgit_http_exchange.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The most a response's header block may take. */
#define MAX_HEADER_BYTES (64 * 1024)
/* The low-speed limit, as msgit's git connections have it. */
#define LOW_SPEED_BYTES_PER_SECOND 16
/* libcurl's largest upload buffer: each read of an uploaded file fills it. */
#define UPLOAD_BUFFER_BYTES (2 * 1024 * 1024)
/* libcurl's receive buffer for a streamed body (default 16 KiB): each `write` gets up to this
 * much, so a 1 GiB download is 4,096 calls, not 65,536. */
#define STREAM_BUFFER_BYTES (256 * 1024)
/* Idle connections the pool keeps: libcurl's default (four per transfer of the multi handle,
 * here one) closes a connection each time one is returned while others are busy, and uploads
 * run dozens at once. */
#define POOL_CONNECTIONS 256L

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} buffer;

struct msgit_http_pool {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void pool_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *context)
{
    (void)handle;
    (void)access;
    msgit_http_pool *pool = context;
    pthread_mutex_lock(&pool->locks[data]);
}

static void pool_unlock(CURL *handle, curl_lock_data data, void *context)
{
    (void)handle;
    msgit_http_pool *pool = context;
    pthread_mutex_unlock(&pool->locks[data]);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

msgit_http_pool *msgit_http_pool_new(void)
{
    pthread_once(&global_once, global_init);
    msgit_http_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->share = curl_share_init();
    if (!pool->share) {
        free(pool);
        return NULL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&pool->locks[i], NULL);
    curl_share_setopt(pool->share, CURLSHOPT_LOCKFUNC, pool_lock);
    curl_share_setopt(pool->share, CURLSHOPT_UNLOCKFUNC, pool_unlock);
    curl_share_setopt(pool->share, CURLSHOPT_USERDATA, pool);
    curl_share_setopt(pool->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(pool->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(pool->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return pool;
}

void msgit_http_pool_free(msgit_http_pool *pool)
{
    if (!pool)
        return;
    curl_share_cleanup(pool->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&pool->locks[i]);
    free(pool);
}

struct msgit_http_exchange {
    msgit_http_pool *pool;
    char *method;
    char *url;
    char *user_agent;
    struct curl_slist *headers;
    buffer request_body;
    int upload_fd;
    int64_t upload_size;
    int64_t upload_offset;
    int read_error;
    msgit_http_sent_callback sent_callback;
    void *sent_context;
    int64_t sent;
    /* When the last request byte went out: the answer's headers are due within the idle limit
     * of that, not of the start (an upload of minutes is answered after its last byte). */
    int64_t last_send_ms;
    /* When libcurl took the body's last byte (to send at once): the start of the wait for the
     * answer. The progress callback comes too late to tell (with the answer, for a small body). */
    int64_t body_done_ms;
    /* When the answer's first header line came. */
    int64_t first_header_ms;
    size_t max_body;
    int truncate;
    msgit_http_accept_callback stream_accept;
    msgit_http_write_callback stream_write;
    void *stream_context;
    /* 0 until the body's first byte, then 1 (taken: to `stream_write`) or 2 (not taken). */
    int stream_state;
    int stream_failed;
    CURL *curl; /* set while perform runs, for the status at the body's first byte */
    long connect_ms;
    long idle_ms;
    atomic_int cancelled;
    pthread_mutex_t lock;
    CURLM *multi; /* set while perform runs, for cancel's wakeup */

    long status;
    buffer response_headers;
    buffer body;
    int headers_complete;
    int too_large;
    int headers_late;
    int64_t started_ms;
    double wait_seconds;
    double total_seconds;
    double answer_seconds;
    char error[CURL_ERROR_SIZE + 256];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int append(buffer *b, const char *data, size_t n)
{
    if (b->length + n + 1 > b->capacity) {
        size_t wanted = (b->length + n + 1) * 2;
        char *grown = realloc(b->data, wanted);
        if (!grown)
            return -1;
        b->data = grown;
        b->capacity = wanted;
    }
    memcpy(b->data + b->length, data, n);
    b->length += n;
    b->data[b->length] = '\0';
    return 0;
}

msgit_http_exchange *msgit_http_new(const char *method, const char *url)
{
    pthread_once(&global_once, global_init);
    msgit_http_exchange *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->method = strdup(method);
    e->url = strdup(url);
    e->max_body = 64 << 20;
    e->connect_ms = 30000;
    e->idle_ms = 120000;
    e->upload_fd = -1;
    atomic_init(&e->cancelled, 0);
    pthread_mutex_init(&e->lock, NULL);
    if (!e->method || !e->url) {
        msgit_http_free(e);
        return NULL;
    }
    return e;
}

void msgit_http_free(msgit_http_exchange *e)
{
    if (!e)
        return;
    free(e->method);
    free(e->url);
    free(e->user_agent);
    curl_slist_free_all(e->headers);
    free(e->request_body.data);
    free(e->response_headers.data);
    free(e->body.data);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void msgit_http_add_header(msgit_http_exchange *e, const char *line)
{
    struct curl_slist *list = curl_slist_append(e->headers, line);
    if (list)
        e->headers = list;
}

void msgit_http_set_body(msgit_http_exchange *e, const void *data, size_t length)
{
    e->request_body.length = 0;
    append(&e->request_body, data, length);
}

void msgit_http_set_upload_file(msgit_http_exchange *e, int fd, int64_t size)
{
    e->upload_fd = fd;
    e->upload_size = size;
    e->upload_offset = 0;
}

void msgit_http_set_sent_callback(msgit_http_exchange *e, msgit_http_sent_callback callback, void *context)
{
    e->sent_callback = callback;
    e->sent_context = context;
}

void msgit_http_set_user_agent(msgit_http_exchange *e, const char *user_agent)
{
    free(e->user_agent);
    e->user_agent = user_agent ? strdup(user_agent) : NULL;
}

void msgit_http_set_limits(msgit_http_exchange *e, size_t max_body, long connect_ms, long idle_ms)
{
    e->max_body = max_body;
    e->connect_ms = connect_ms > 0 ? connect_ms : 30000;
    e->idle_ms = idle_ms > 0 ? idle_ms : 120000;
}

void msgit_http_set_truncate(msgit_http_exchange *e, int truncate)
{
    e->truncate = truncate;
}

void msgit_http_set_body_stream(msgit_http_exchange *e, msgit_http_accept_callback accept,
                                msgit_http_write_callback write, void *context)
{
    e->stream_accept = accept;
    e->stream_write = write;
    e->stream_context = context;
}

void msgit_http_set_pool(msgit_http_exchange *e, msgit_http_pool *pool)
{
    e->pool = pool;
}

void msgit_http_cancel(msgit_http_exchange *e)
{
    atomic_store(&e->cancelled, 1);
    pthread_mutex_lock(&e->lock);
    if (e->multi)
        curl_multi_wakeup(e->multi);
    pthread_mutex_unlock(&e->lock);
}

static size_t on_body(char *data, size_t size, size_t count, void *context)
{
    msgit_http_exchange *e = context;
    size_t n = size * count;
    if (e->stream_write) {
        if (e->stream_state == 0) {
            long status = 0;
            curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
            e->stream_state = e->stream_accept(e->stream_context, status) ? 1 : 2;
        }
        /* Not taken: refusing the bytes (a short count) makes libcurl stop reading at once. */
        if (e->stream_state == 2)
            return 0;
        if (e->stream_write(e->stream_context, data, n) != 0) {
            e->stream_failed = 1;
            return 0;
        }
        return n;
    }
    /* Refusing the bytes (a short count) makes libcurl stop reading at once. */
    if (e->body.length + n > e->max_body) {
        if (e->truncate)
            append(&e->body, data, e->max_body - e->body.length);
        e->too_large = 1;
        return 0;
    }
    return append(&e->body, data, n) < 0 ? 0 : n;
}

static size_t on_header(char *data, size_t size, size_t count, void *context)
{
    msgit_http_exchange *e = context;
    size_t n = size * count;
    if (!e->first_header_ms)
        e->first_header_ms = now_ms();
    /* A new status line (after an interim 1xx answer) starts the block again. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        e->response_headers.length = 0;
        e->headers_complete = 0;
    }
    if (e->response_headers.length + n > MAX_HEADER_BYTES) {
        e->too_large = 1;
        return 0;
    }
    if (append(&e->response_headers, data, n) < 0)
        return 0;
    if ((n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n'))
        e->headers_complete = 1;
    return n;
}

/* The uploaded file, read where libcurl is (a rewind for a retry included), straight into its
 * buffer. A file that ends early (it shrank) or cannot be read ends the exchange. */
static size_t on_read(char *data, size_t size, size_t count, void *context)
{
    msgit_http_exchange *e = context;
    if (atomic_load(&e->cancelled))
        return CURL_READFUNC_ABORT;
    int64_t left = e->upload_size - e->upload_offset;
    if (left <= 0)
        return 0;
    size_t wanted = size * count;
    if ((int64_t)wanted > left)
        wanted = (size_t)left;
    ssize_t got;
    do {
        got = pread(e->upload_fd, data, wanted, (off_t)e->upload_offset);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        e->read_error = got < 0 ? errno : -1;
        return CURL_READFUNC_ABORT;
    }
    e->upload_offset += got;
    if (e->upload_offset == e->upload_size)
        e->body_done_ms = now_ms();
    return (size_t)got;
}

static int on_seek(void *context, curl_off_t offset, int origin)
{
    msgit_http_exchange *e = context;
    if (origin != SEEK_SET || offset < 0 || offset > e->upload_size)
        return CURL_SEEKFUNC_FAIL;
    e->upload_offset = offset;
    return CURL_SEEKFUNC_OK;
}

/* When the answer's headers are due: the idle limit after the request went out whole. */
static int headers_overdue(msgit_http_exchange *e)
{
    int64_t since = e->last_send_ms > e->started_ms ? e->last_send_ms : e->started_ms;
    return !e->headers_complete && now_ms() - since > e->idle_ms;
}

static int on_progress(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    msgit_http_exchange *e = context;
    if (atomic_load(&e->cancelled))
        return 1;
    if (ulnow > e->sent) {
        e->sent = ulnow;
        e->last_send_ms = now_ms();
        if (e->sent_callback)
            e->sent_callback(e->sent_context, (int64_t)ulnow);
    }
    /* The whole header block within the idle limit of the request: trickled headers end here. */
    if (headers_overdue(e)) {
        e->headers_late = 1;
        return 1;
    }
    return 0;
}

msgit_http_result msgit_http_perform(msgit_http_exchange *e)
{
    CURL *curl = curl_easy_init();
    CURLM *multi = curl_multi_init();
    if (!curl || !multi) {
        if (curl)
            curl_easy_cleanup(curl);
        if (multi)
            curl_multi_cleanup(multi);
        snprintf(e->error, sizeof(e->error), "cannot set up an HTTP request (libcurl)");
        return MSGIT_HTTP_TRANSPORT;
    }
    char curl_error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, e->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, e->connect_ms);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES_PER_SECOND);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, e->idle_ms / 1000 > 0 ? e->idle_ms / 1000 : 1L);
    if (!e->truncate && !e->stream_write)
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->max_body);
    if (e->stream_write)
        curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, (long)STREAM_BUFFER_BYTES);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, e);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, e);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, e);
    /* Credentials are the caller's headers, for this URL only; no netrc, no cookies. */
    curl_easy_setopt(curl, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, NULL);
    if (e->user_agent)
        curl_easy_setopt(curl, CURLOPT_USERAGENT, e->user_agent);
    if (e->pool)
        curl_easy_setopt(curl, CURLOPT_SHARE, e->pool->share);
    if (e->headers)
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, e->headers);
    if (strcmp(e->method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(e->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (e->upload_fd >= 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        if (strcmp(e->method, "PUT") != 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, e->method);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, e);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, e);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)e->upload_size);
        curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUFFER_BYTES);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, e->method);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, e->request_body.data ? e->request_body.data : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)e->request_body.length);
    }
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, POOL_CONNECTIONS);

    e->started_ms = now_ms();
    e->curl = curl;
    curl_multi_add_handle(multi, curl);
    pthread_mutex_lock(&e->lock);
    e->multi = multi;
    pthread_mutex_unlock(&e->lock);
    int running = 1;
    CURLcode code = CURLE_OK;
    while (running) {
        if (atomic_load(&e->cancelled))
            break;
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 200, NULL);
        /* The progress callback runs only while libcurl works: look at the clock here too. */
        if (headers_overdue(e)) {
            e->headers_late = 1;
            break;
        }
    }
    int messages = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &messages))) {
        if (message->msg == CURLMSG_DONE)
            code = message->data.result;
    }
    pthread_mutex_lock(&e->lock);
    e->multi = NULL;
    pthread_mutex_unlock(&e->lock);

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &e->status);
    curl_off_t first = 0, total = 0, ready = 0;
    curl_easy_getinfo(curl, CURLINFO_STARTTRANSFER_TIME_T, &first);
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &ready);
    e->wait_seconds = (double)first / 1e6;
    e->total_seconds = (double)total / 1e6;
    /* From the body's last byte to the answer's first: a round trip and the server's work, as a
     * download's wait is. (libcurl's STARTTRANSFER time marks an upload's first byte, not the
     * answer's; a TCP handshake measures only the nearest hop, a proxy's.) Milliseconds. */
    e->answer_seconds = e->body_done_ms && e->first_header_ms > e->body_done_ms
        ? (double)(e->first_header_ms - e->body_done_ms) / 1e3 : 0;
    /* A request without a body: from when the connection was ready (after any handshake) to the
     * answer's first byte. Microseconds. */
    if (e->upload_fd < 0 && first > ready && ready > 0)
        e->answer_seconds = (double)(first - ready) / 1e6;
    int finished = !running;
    e->curl = NULL;
    curl_multi_remove_handle(multi, curl);
    curl_easy_cleanup(curl);
    curl_multi_cleanup(multi);

    if (atomic_load(&e->cancelled)) {
        snprintf(e->error, sizeof(e->error), "cancelled");
        return MSGIT_HTTP_CANCELLED;
    }
    if (e->headers_late) {
        snprintf(e->error, sizeof(e->error), "no whole response headers within %ld s", e->idle_ms / 1000);
        return MSGIT_HTTP_TIMEOUT;
    }
    if (e->too_large && e->truncate && e->headers_complete)
        return MSGIT_HTTP_OK;
    if (e->stream_state == 2 && e->headers_complete)
        return MSGIT_HTTP_OK;
    if (e->stream_failed) {
        snprintf(e->error, sizeof(e->error), "the body could not be taken");
        return MSGIT_HTTP_TRANSPORT;
    }
    if (e->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        snprintf(e->error, sizeof(e->error), "the response is larger than the %zu bytes allowed", e->max_body);
        return MSGIT_HTTP_TOO_LARGE;
    }
    if (e->read_error) {
        snprintf(e->error, sizeof(e->error), "cannot read the file to upload: %s",
                 e->read_error > 0 ? strerror(e->read_error) : "it is shorter than its size (changed while uploading?)");
        return MSGIT_HTTP_TRANSPORT;
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
        /* The callers say "timed out"; the reason is which limit. */
        long window = e->idle_ms / 1000 > 0 ? e->idle_ms / 1000 : 1L;
        if (strstr(curl_error, "too slow"))
            snprintf(e->error, sizeof(e->error), "fewer than %d bytes a second over %ld s", LOW_SPEED_BYTES_PER_SECOND,
                     window);
        else
            snprintf(e->error, sizeof(e->error), "%s", curl_error[0] ? curl_error : "no progress");
        return MSGIT_HTTP_TIMEOUT;
    }
    if (!finished || code != CURLE_OK) {
        snprintf(e->error, sizeof(e->error), "%s", curl_error[0] ? curl_error : curl_easy_strerror(code));
        return MSGIT_HTTP_TRANSPORT;
    }
    return MSGIT_HTTP_OK;
}

long msgit_http_status(const msgit_http_exchange *e) { return e->status; }

const char *msgit_http_headers(const msgit_http_exchange *e, size_t *length)
{
    *length = e->response_headers.length;
    return e->response_headers.data ? e->response_headers.data : "";
}

const void *msgit_http_body(const msgit_http_exchange *e, size_t *length)
{
    *length = e->body.length;
    return e->body.data ? e->body.data : "";
}

const char *msgit_http_error(const msgit_http_exchange *e) { return e->error; }
double msgit_http_wait_seconds(const msgit_http_exchange *e) { return e->wait_seconds; }
double msgit_http_total_seconds(const msgit_http_exchange *e) { return e->total_seconds; }
double msgit_http_answer_seconds(const msgit_http_exchange *e) { return e->answer_seconds; }
