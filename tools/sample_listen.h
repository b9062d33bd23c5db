/*
 * One listener's kernel reading without a dump: a sock_diag request for
 * the exact socket (its local address and port, no remote end), which the
 * kernel answers with a hash lookup (inet_diag_find_one_icsk) where a dump
 * walks every listener of the host, whatever namespace. What `ss -ltm`
 * shows for it: queue now, backlog, SK_MEMINFO drops.
 */
#ifndef AW_SAMPLE_LISTEN_H
#define AW_SAMPLE_LISTEN_H

#include "sockdiag.h"

#include <stdint.h>

/*
 * Parse an address as sockdiag formats it ("1.2.3.4:80", "[::1]:80")
 * into family and the network-order words inet_diag uses. 0 or -1.
 */
int sample_listen_parse(const char *address, uint8_t *family, uint32_t addr[4]);

/*
 * Read the listener of family at addr:port whose inode is ino into e
 * (rqueue, wqueue, drops). *nl is a NETLINK_SOCK_DIAG socket the caller
 * keeps (-1: opened here). 0 read; 1 not there, or another socket
 * answers (gone, or one of a SO_REUSEPORT group): dump instead; -1 the
 * request failed (*nl closed and reset).
 */
int sample_listen_read(int *nl, uint8_t family, const uint32_t addr[4],
		       uint16_t port, uint64_t ino, struct sockdiag_entry *e);

#endif
