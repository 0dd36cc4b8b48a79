/* reply.c - a reply on its way to the controller: an error set by a handler,
 * or a result (its interface names put back in the topology's), one line. */
#include "agent.h"

int reply_error(struct reply *r, int err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        free(r->message);
        if (vasprintf(&r->message, fmt, ap) < 0)
                abort();
        va_end(ap);
        r->err_name = errno_name(err);
        return err < 0 ? err : -EIO;
}

void agent_send_reply(struct agent *a, int64_t id, struct reply *r)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "v", json_object_new_int(AGENT_PROTOCOL));
        json_object_object_add(o, "id", json_object_new_int64(id));
        if (r->message) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(o, "ok", json_object_new_boolean(false));
                json_object_object_add(e, "errno", json_object_new_string(r->err_name));
                json_object_object_add(e, "message", json_object_new_string(r->message));
                json_object_object_add(o, "error", e);
                json_object_put(r->result);
        } else {
                json_object_object_add(o, "ok", json_object_new_boolean(true));
                alias_reply(a, r->result);
                json_object_object_add(o, "result",
                                       r->result ? r->result : json_object_new_object());
        }
        r->result = NULL;
        free(r->message);
        r->message = NULL;
        if (json_write_line(a->out_fd, o) < 0)
                a->quit = true; /* the controller is gone */
        json_object_put(o);
}
