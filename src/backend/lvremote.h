/* lvremote.h - what a VM on another hypervisor host (a node with uri:
 * qemu+ssh://...) needs from the controller: its kernel and image uploaded into
 * a storage pool there, its console and agent channel carried over the libvirt
 * connection as streams, and the addresses its udp links use. */
#pragma once
#include <libvirt/libvirt.h>
#include <stddef.h>

/* libvirt's default event loop in a thread of its own: streams and keepalives
 * need one. Idempotent; call before opening connections. */
void lvr_event_loop_start(void);

/* The host a URI names ("qemu+ssh://root@hv2:22/system" -> "hv2"); "" when it
 * names none (qemu:///system: this host). */
char *lvr_uri_host(const char *uri);
/* A host name to its IPv4 address (text). */
int lvr_resolve4(const char *host, char *buf, size_t len);
/* This host's source address towards an IPv4 address (text). */
int lvr_addr_towards(const char *remote, char *buf, size_t len);

/* Puts a local file into the pool "mptcplab" of the connection's host (a
 * directory pool made when missing), unless a complete copy is there already
 * (named by the file's name, size and mtime). *ret_path: its path there. */
int lvr_upload(virConnectPtr c, const char *file, char **ret_path, char **err);

struct lvr_pump;
/* Appends what the domain's serial console says to a local file. The domain is
 * best started paused, so that nothing of its boot is missed. */
int lvr_console_to_file(virConnectPtr c, virDomainPtr d, const char *path, struct lvr_pump **ret,
                        char **err);
/* A local socket carrying the domain's virtio-serial channel NAME both ways. */
int lvr_channel_fd(virConnectPtr c, virDomainPtr d, const char *name, int *ret_fd,
                   struct lvr_pump **ret, char **err);
/* Stops carrying data and releases the stream (NULL is fine). */
struct lvr_pump *lvr_pump_stop(struct lvr_pump *p);
/* libvirt lets go of stopped streams in its event loop: waits (up to ms) until
 * every stopped one is gone. */
void lvr_pumps_wait(int ms);
