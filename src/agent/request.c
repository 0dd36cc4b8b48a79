/* request.c - one request line of the agent protocol: parsed, checked,
 * dispatched to ops.c, answered. Separate from the event loop so that the
 * fuzzer drives it (with the agent in dry-run). */
#include "agent.h"

#include <math.h>

/* json-c keeps integers beyond INT64_MAX as unsigned: such an id is not ours */
static bool exact_int(struct json_object *o)
{
        return o && json_object_is_type(o, json_type_int) &&
               (json_object_get_int64(o) != INT64_MAX ||
                json_object_get_uint64(o) == (uint64_t)INT64_MAX);
}

/* What no request may hold anywhere: a string with a NUL inside (C would cut
 * it: ["true\u0000x"] would run `true`), a number that is not finite. */
static const char *checked_values(struct json_object *o)
{
        switch (json_object_get_type(o)) {
        case json_type_string:
                return strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o)
                               ? "a string with a NUL character"
                               : NULL;
        case json_type_double:
                return isfinite(json_object_get_double(o)) ? NULL : "a number that is not finite";
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        const char *b = checked_values(json_object_array_get_idx(o, i));
                        if (b)
                                return b;
                }
                return NULL;
        case json_type_object: {
                json_object_object_foreach (o, k, v) {
                        const char *b = strlen(k) ? checked_values(v) : NULL;
                        if (b)
                                return b;
                }
                return NULL;
        }
        default:
                return NULL;
        }
}

void agent_handle_line(struct agent *a, const char *line)
{
        struct reply r = {0};
        int64_t id = -1, v = 0;
        enum json_tokener_error jerr;
        _cleanup_json_ struct json_object *req = json_tokener_parse_verbose(line, &jerr);
        if (!req || !json_object_is_type(req, json_type_object)) {
                reply_error(&r, -EINVAL, "request is not a JSON object: %s",
                            req ? "wrong type" : json_tokener_error_desc(jerr));
                agent_send_reply(a, -1, &r);
                return;
        }
        struct json_object *ido = NULL;
        json_object_object_get_ex(req, "id", &ido);
        if (!jint(req, "id", &id) || id < 0 || !exact_int(ido)) {
                reply_error(&r, -EINVAL,
                            "request has no \"id\" (an integer from 0 to 9223372036854775807)");
                agent_send_reply(a, -1, &r);
                return;
        }
        struct json_object *vo = NULL;
        json_object_object_get_ex(req, "v", &vo);
        if (!vo || !json_object_is_type(vo, json_type_int) || !jint(req, "v", &v) ||
            v != AGENT_PROTOCOL) {
                reply_error(&r, -EPROTO, "protocol version %s not supported (this agent speaks %d)",
                            vo ? json_object_to_json_string(vo) : "(none)", AGENT_PROTOCOL);
                agent_send_reply(a, id, &r);
                return;
        }
        const char *bad = checked_values(req);
        if (bad) {
                reply_error(&r, -EINVAL, "request holds %s", bad);
                agent_send_reply(a, id, &r);
                return;
        }
        const char *op = jstr(req, "op");
        if (!op) {
                reply_error(&r, -EINVAL, "request has no \"op\"");
                agent_send_reply(a, id, &r);
                return;
        }
        struct json_object *args = jobj(req, "args");
        _cleanup_json_ struct json_object *empty = NULL;
        if (!args) {
                if (json_object_object_get_ex(req, "args", NULL)) {
                        reply_error(&r, -EINVAL, "\"args\" must be an object");
                        agent_send_reply(a, id, &r);
                        return;
                }
                args = empty = json_object_new_object();
        }
        log_debug("%s: request %lld %s", a->node, (long long)id, op);
        r.req_id = id;
        alias_request(a, args);
        agent_dispatch(a, id, op, args, &r);
        if (!r.deferred)
                agent_send_reply(a, id, &r);
}
