/* JSON-line logging to stderr. */
#include "tripdesk/log.h"

#include "tripdesk/common.h"
#include "tripdesk/config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MSG_MAX 2048

static const char *log_service = "tripdesk";
static td_log_level log_min = TD_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void td_log_init(const char *service)
{
    log_service = service;
    const char *lvl = td_env_str(TD_ENV_LOG_LEVEL, "info");
    for (int i = 0; i < 4; i++)
        if (strcmp(lvl, level_names[i]) == 0)
            log_min = (td_log_level)i;
}

void td_log(td_log_level level, const char *request_id, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap); /* a longer message is cut: a log line */
    va_end(ap);

    char ts[TD_ISO_TIME_LEN];
    td_iso_time(td_now_ms(), ts);
    cJSON *line = cJSON_CreateObject();
    if (line == NULL)
        return;
    cJSON_AddStringToObject(line, "time", ts);
    cJSON_AddStringToObject(line, "level", level_names[level]);
    cJSON_AddStringToObject(line, "service", log_service);
    if (request_id != NULL && request_id[0] != '\0')
        cJSON_AddStringToObject(line, "requestId", request_id);
    cJSON_AddStringToObject(line, "msg", msg);
    char *text = cJSON_PrintUnformatted(line);
    if (text != NULL) {
        /* One write per line so lines of concurrent threads do not interleave. */
        size_t n = strlen(text);
        text[n] = '\n';
        (void)fwrite(text, 1, n + 1, stderr); /* a failed log write has nowhere to go */
        text[n] = '\0';
        free(text);
    }
    cJSON_Delete(line);
}
