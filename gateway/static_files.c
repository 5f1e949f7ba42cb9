/* The web UI: files under the web root, index.html for any other non-API path so
 * the single-page app's own router can take over (SPA fallback). */
#include "gateway.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILE ((off_t)32 * 1024 * 1024)

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
    {NULL, NULL},
};

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (int i = 0; dot != NULL && mime_types[i].ext != NULL; i++)
        if (strcmp(dot, mime_types[i].ext) == 0)
            return mime_types[i].type;
    return "application/octet-stream";
}

/* Reads a regular file; returns malloc'd bytes or NULL. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= STATIC_MAX_FILE) {
        buf = malloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (buf != NULL && got < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
            if (n <= 0) {
                free(buf);
                buf = NULL;
                break;
            }
            got += (size_t)n;
        }
        *len = got;
    }
    close(fd);
    return buf;
}

static void send_file(gw_exchange *ex, const char *path, const char *cache, char *data, size_t len)
{
    const char *extra[][2] = {{"Cache-Control", cache}};
    gw_send(ex, 200, mime_of(path), data, len, extra, 1);
    free(data);
}

void gw_static(gw_exchange *ex)
{
    const char *method = ex->ri->request_method;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        gw_send_error(ex, 405, "METHOD_NOT_ALLOWED", "Only GET and HEAD are allowed here", NULL);
        return;
    }
    /* civetweb's local_uri is decoded and cleaned of ".." segments. */
    const char *uri = ex->ri->local_uri != NULL ? ex->ri->local_uri : "/";
    char path[2048];
    size_t len = 0;
    if (strstr(uri, "..") == NULL && strcmp(uri, "/") != 0 &&
        td_fmt(path, sizeof path, "%s%s", gw_cfg.web_root, uri) == TD_OK) {
        char *data = read_file(path, &len);
        if (data != NULL) {
            /* Vite puts content-hashed names under /assets: cache them for good. */
            bool hashed = strncmp(uri, "/assets/", 8) == 0;
            send_file(ex, path, hashed ? "public, max-age=31536000, immutable" : "no-cache", data,
                      len);
            return;
        }
    }
    /* a path too long for a file is the web UI's route: its index page answers; that
     * one fits: web_root is shorter than half of path */
    TD_IGNORE(td_fmt(path, sizeof path, "%s/index.html", gw_cfg.web_root));
    char *data = read_file(path, &len);
    if (data == NULL) {
        gw_send_error(ex, 404, "NOT_FOUND", "The web UI is not built", NULL);
        return;
    }
    send_file(ex, path, "no-cache", data, len);
}
