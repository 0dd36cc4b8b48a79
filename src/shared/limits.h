/* limits.h - the one table of value limits shared by the topology validator,
 * the agent and mptcpload, so that `mptcplab validate` saying ok means that
 * nothing is refused for its range when a run configures it. */
#pragma once

/* A topology file, checked before libfyaml builds a document from it. */
#define LIM_TOPO_FILE_BYTES (256 * 1024) /* the largest standard topology is 3 KiB */
#define LIM_TOPO_YAML_NODES 10000        /* scalars, lists and mappings in the whole file */
#define LIM_TOPO_YAML_DEPTH 32
#define LIM_TOPO_NODES      64
#define LIM_TOPO_LINKS      256
#define LIM_TOPO_WORKLOADS  64
#define LIM_TOPO_SYSCTLS    256
#define LIM_TOPO_ROUTES     256
#define LIM_TOPO_ADDRS      64 /* per interface */
#define LIM_TOPO_ENDPOINTS  64 /* per node */
#define LIM_TOPO_EVENTS     64 /* per workload */

/* Shaping (tbf and netem take bytes per second as u32; netem's times are u32 us). */
#define LIM_RATE_MIN_BPS   8ULL           /* 1 byte per second */
#define LIM_RATE_MAX_BPS   34000000000ULL /* 34gbit: UINT32_MAX bytes/s is 34.36gbit */
#define LIM_DELAY_MAX_US   60000000ULL    /* 60 s, delay and jitter alike */
#define LIM_QUEUE_MAX_PKTS 1000000
/* a link's MTU: IPv4's smallest datagram every host takes, to the largest a
 * link can say; an IPv6 address needs 1280 (checked where one is on it) */
#define LIM_MTU_MIN 576
#define LIM_MTU_MAX 65535

/* Interface names: the guest's init renames NICs through "t-NAME", so a name
 * must leave two of IFNAMSIZ-1 (15) characters free. */
#define LIM_IFNAME_LEN   13
#define LIM_NODENAME_LEN 15

/* Workloads. mptcpload's data port is its control port + 1. */
#define LIM_PORT_MIN    1024
#define LIM_PORT_MAX    65534
#define LIM_FLOWS_MAX   10000 /* mptcpload raises RLIMIT_NOFILE; the guest allows 1048576 */
#define LIM_NOFILE_HARD 1048576
#define LIM_SIZE_MAX    (64ULL << 30) /* a fixed-size transfer (size:) */

/* Node resources. */
#define LIM_CPUS_MAX   64
#define LIM_MEMORY_MIN (64ULL << 20)
#define LIM_MEMORY_MAX (1ULL << 40)

/* A VM node's console log: a guest that writes more is stopped (the run fails
 * naming it) before it fills the host's disk. */
#define LIM_CONSOLE_BYTES (64 << 20)
