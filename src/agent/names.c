/* names.c - the shapes of names and addresses the agent takes in a request. */
#include "agent.h"

#include <arpa/inet.h>

bool valid_ifname(const char *s)
{
        return ifname_valid(s);
}

bool valid_cidr(const char *s)
{
        char buf[64];
        if (strlen(s) >= sizeof buf || !strchr(s, '/'))
                return false;
        strcpy(buf, s);
        char *slash = strchr(buf, '/'), *end;
        *slash = 0;
        unsigned char tmp[16];
        int fam = inet_pton(AF_INET, buf, tmp) == 1    ? AF_INET
                  : inet_pton(AF_INET6, buf, tmp) == 1 ? AF_INET6
                                                       : 0;
        long p = strtol(slash + 1, &end, 10);
        return fam && !*end && end != slash + 1 && p >= 0 && p <= (fam == AF_INET ? 32 : 128);
}
