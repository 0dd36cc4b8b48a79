/* libFuzzer: the agent's request handling on any bytes, line by line, with
 * the agent in dry-run: every request is parsed and its arguments checked as
 * for real, and no operation touches the system. Replies go to /dev/null;
 * what is checked is memory (ASan/UBSan) and that nothing hangs. */
#include "agent/agent.h"

#include <fcntl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int devnull = -1;
        if (devnull < 0) {
                devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
                log_set_level(LOG_LVL_ERROR);
        }
        struct agent a = {.node = "fuzz",
                          .in_fd = -1,
                          .out_fd = devnull,
                          .have_netem = -1,
                          .have_tbf = -1,
                          .have_htb = -1,
                          .dry_run = true};
        char *text = xcalloc(1, size + 1);
        memcpy(text, data, size);
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && !a.quit;
             line = strtok_r(NULL, "\n", &save))
                agent_handle_line(&a, line);
        free(text);
        if (a.jobs || a.undo) /* dry-run made nothing to undo and started nothing */
                abort();
        json_object_put(a.hello);
        return 0;
}
