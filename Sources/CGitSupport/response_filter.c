/* The filter every plaintext HTTP response passes through: see msgit_response_filter in internal.h. */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int msgit_is_request_start(const char *data, size_t len)
{
    static const char *methods[] = { "GET ", "POST ", "PUT ", "HEAD ", "CONNECT ", "OPTIONS ", "DELETE " };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t n = strlen(methods[i]);
        if (len >= n && memcmp(data, methods[i], n) == 0)
            return 1;
    }
    return 0;
}

void msgit_filter_wrote(msgit_response_filter *filter, const char *data, size_t len)
{
    if (!msgit_is_request_start(data, len))
        return;
    filter->expecting = 1;
    filter->deadline = 0;
    filter->length = 0;
}

void msgit_filter_free(msgit_response_filter *filter)
{
    free(filter->buffer);
    free(filter->out);
    memset(filter, 0, sizeof(*filter));
}

static ssize_t hand_over(msgit_response_filter *filter, void *data, size_t len)
{
    size_t left = filter->out_length - filter->out_position;
    size_t n = len < left ? len : left;
    memcpy(data, filter->out + filter->out_position, n);
    filter->out_position += n;
    if (filter->out_position == filter->out_length) {
        filter->out_length = 0;
        filter->out_position = 0;
    }
    return (ssize_t)n;
}

static int append(char **buffer, size_t *length, size_t *capacity, const char *data, size_t n)
{
    if (*length + n > *capacity) {
        size_t wanted = (*length + n) * 2;
        char *grown = realloc(*buffer, wanted);
        if (!grown)
            return -1;
        *buffer = grown;
        *capacity = wanted;
    }
    memcpy(*buffer + *length, data, n);
    *length += n;
    return 0;
}

/* The end of the header block in buffer[0..<length] (just past its blank line), or 0. */
static size_t header_end(const char *buffer, size_t length)
{
    for (size_t i = 3; i < length; i++) {
        if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

/*
 * Copies the header block buffer[0..<end] to `out`, without its `WWW-Authenticate` lines unless
 * the status is 401. Returns the status (0 if the status line cannot be read).
 */
static int filter_block(const char *block, size_t end, char **out, size_t *out_length, size_t *out_capacity)
{
    int status = 0;
    if (end > 12 && strncmp(block, "HTTP/", 5) == 0) {
        const char *space = memchr(block, ' ', end);
        if (space && space + 4 < block + end)
            status = atoi(space + 1);
    }
    size_t position = 0;
    while (position < end) {
        const char *line = block + position;
        const char *newline = memchr(line, '\n', end - position);
        size_t line_length = newline ? (size_t)(newline - line) + 1 : end - position;
        int drop = status != 401 && line_length >= 17 && strncasecmp(line, "WWW-Authenticate:", 17) == 0;
        if (!drop && append(out, out_length, out_capacity, line, line_length) < 0)
            return -1;
        position += line_length;
    }
    return status;
}

ssize_t msgit_filter_read(msgit_response_filter *filter, msgit_operation *op, msgit_raw_read read, void *context,
                          void *data, size_t len)
{
    if (filter->out_position < filter->out_length)
        return hand_over(filter, data, len);
    if (!filter->expecting)
        return read(context, data, len, 0);

    if (filter->deadline == 0)
        filter->deadline = msgit_now_ms() + op->idle_timeout_ms;
    size_t capacity = filter->length;
    size_t out_capacity = 0;
    free(filter->out);
    filter->out = NULL;
    filter->out_length = 0;
    filter->out_position = 0;
    char chunk[16 * 1024];
    for (;;) {
        size_t end = header_end(filter->buffer, filter->length);
        while (end) {
            int status = filter_block(filter->buffer, end, &filter->out, &filter->out_length, &out_capacity);
            if (status < 0) {
                git_error_set_oom();
                return -1;
            }
            memmove(filter->buffer, filter->buffer + end, filter->length - end);
            filter->length -= end;
            if (status >= 100 && status < 200) {
                /* An interim answer (100 Continue): the real one's header block follows. */
                end = header_end(filter->buffer, filter->length);
                continue;
            }
            /* The block is done: the rest of what was read is body, handed over as it is. */
            if (append(&filter->out, &filter->out_length, &out_capacity, filter->buffer, filter->length) < 0) {
                git_error_set_oom();
                return -1;
            }
            filter->length = 0;
            filter->expecting = 0;
            return hand_over(filter, data, len);
        }
        if (filter->length >= MSGIT_MAX_HEADER_BYTES) {
            git_error_set_str(GIT_ERROR_NET, "the server's response headers are larger than 64 KiB");
            return -1;
        }
        ssize_t n = read(context, chunk, sizeof(chunk), filter->deadline);
        if (n < 0)
            return -1;
        if (n == 0) {
            /* The connection ended inside the headers: hand over what came; libgit2 reports it. */
            if (append(&filter->out, &filter->out_length, &out_capacity, filter->buffer, filter->length) < 0) {
                git_error_set_oom();
                return -1;
            }
            filter->length = 0;
            filter->expecting = 0;
            return filter->out_length ? hand_over(filter, data, len) : 0;
        }
        if (append(&filter->buffer, &filter->length, &capacity, chunk, (size_t)n) < 0) {
            git_error_set_oom();
            return -1;
        }
    }
}

/* msgit_response_filter_run's raw reader: `data` in pieces. */
typedef struct {
    const unsigned char *data;
    size_t length;
    size_t position;
    size_t piece;
} pieces;

static ssize_t read_pieces(void *context, void *data, size_t len, int64_t deadline)
{
    (void)deadline;
    pieces *p = context;
    size_t n = p->length - p->position;
    if (n > p->piece)
        n = p->piece;
    if (n > len)
        n = len;
    memcpy(data, p->data + p->position, n);
    p->position += n;
    return (ssize_t)n;
}

long msgit_response_filter_run(const unsigned char *data, size_t length, size_t piece, unsigned char *out, size_t capacity)
{
    msgit_operation op = { .idle_timeout_ms = 60000 };
    msgit_response_filter filter;
    memset(&filter, 0, sizeof(filter));
    pieces source = { data, length, 0, piece ? piece : 1 };
    msgit_filter_wrote(&filter, "GET / HTTP/1.1\r\n", 16);
    long total = 0;
    unsigned char chunk[4096];
    for (;;) {
        ssize_t n = msgit_filter_read(&filter, &op, read_pieces, &source, chunk, sizeof(chunk));
        if (n < 0) {
            total = -1;
            break;
        }
        if (n == 0)
            break;
        if ((size_t)total < capacity)
            memcpy(out + total, chunk, (size_t)n < capacity - (size_t)total ? (size_t)n : capacity - (size_t)total);
        total += n;
    }
    msgit_filter_free(&filter);
    return total;
}
