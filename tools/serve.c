/*
 * acceptwatch serve: the Prometheus exporter. GET /metrics reads every
 * segment at the time of the scrape (as `stat --prometheus` does) and
 * answers with the exposition; GET / a pointer to it. Read-only: nothing
 * else is served, no other method accepted.
 *
 * libmicrohttpd runs one internal thread polling every connection with
 * non-blocking sockets. A response is read from the segments whole before
 * it is queued, then rendered (and gzipped) a block at a time as the
 * scraper takes it, so a scraper that reads slowly, or sends half a
 * request and waits, holds only its own connection while others are
 * served. Scrapes are read one at a time on that thread (each by the
 * gatherer's few threads): a burst of scrapers never runs several scrapes
 * over /dev/shm at once, and a scrape
 * opens no module file (no names in the exposition): nothing a user leaves
 * can hold it up.
 *
 * Any local user can connect, so no one client may take the slots of
 * others: a client keeps SERVE_PER_CLIENT connections at most (a client
 * is the uid owning the other end when it is a socket of this host, found
 * by sock_diag, else the remote address), the SERVE_MAX_CONNECTIONS slots
 * take SERVE_MAX_CONNECTIONS / SERVE_PER_CLIENT clients to fill, and a
 * connection silent for SERVE_TIMEOUT_S (half a request, an idle keep-alive)
 * is closed. SIGTERM stops it within a second whatever the clients do.
 *
 * Sockets no process under the shim holds are the kernel's figures
 * (sample_host.h), sampled by the main thread at SAMPLE_HOST_HZ while it
 * waits for a signal: queue now, the deepest queue since the previous
 * scrape, socket drops.
 */
#include "commands.h"
#include "error.h"

#include "gather.h"
#include "proc_cache.h"
#include "report.h"
#include "sample_host.h"
#include "sockdiag.h"
#include "usage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

/* One table, one thread (the server's): out of memory is a failed add. */
static int client_add_failed;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((void)(e), client_add_failed = 1)
#include <uthash.h>

#define SERVE_DEFAULT_LISTEN "127.0.0.1:9437"
#define SERVE_TIMEOUT_S 3u
#define SERVE_MAX_CONNECTIONS 256u
#define SERVE_PER_CLIENT 8u
#define SERVE_STOP_S 1u /* after SIGTERM, at most */
#define SERVE_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bytes of exposition (or gzip) handed to the server at a time. */
#define SERVE_BLOCK 65536u

struct serve_opts {
	const char *listen;
	int by_process;
};

/* Who is at the other end: a local uid, or a remote address. Zeroed
 * whole before use (a hash key). */
struct client_key {
	uint32_t local; /* 1: uid says who; 0: family and addr */
	uint32_t uid;
	uint32_t family;
	uint8_t addr[16];
};

/* A client's open connections; gone at its last close. */
struct client {
	struct client_key key;
	unsigned open;
	UT_hash_handle hh;
};

/* Used on the server's thread only (connection notices). */
static struct client *clients;

/* The host's listeners: ticked by the main thread, taken by a scrape on
 * the server's thread, each under host_lock. */
static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sample_host host_sampler;

static const char serve_index[] =
    "<html><head><title>acceptwatch</title></head><body>"
    "<h1>acceptwatch</h1><p><a href=\"/metrics\">Metrics</a></p>"
    "</body></html>\n";

static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"by-socket", no_argument, NULL, 's'},
	    {"by-process", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	o->listen = SERVE_DEFAULT_LISTEN;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:sPh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 's': /* the default since series lost their pid */
			break;
		case 'P':
			o->by_process = 1;
			break;
		case 'h':
			usage_command(stdout, "serve");
			return 1;
		default:
			aw_error("serve: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		aw_error("serve: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

/* A port as a person writes it: 1 to 65535 in decimal, no leading zero
 * (getaddrinfo() would take 99999 as 34463 and 070000 as 4464). */
static int valid_port(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || s[0] == '0' || strspn(s, "0123456789") != n)
		return 0;
	return atoi(s) <= 65535;
}

/*
 * A host that is meant as an address (digits and dots, or in brackets)
 * must be one: 999.1.1.1 is a typo, not a name to resolve ("Temporary
 * failure in name resolution" would send people to their DNS). 0, or -1
 * with a message.
 */
static int check_numeric(const char *arg, const char *host, int v6)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (v6 && inet_pton(AF_INET6, host, buf) != 1) {
		aw_error("serve: --listen '%s': '%s' is not an IPv6 address",
			 arg, host);
		return -1;
	}
	if (!v6 && host[0] && strspn(host, "0123456789.") == strlen(host) &&
	    inet_pton(AF_INET, host, buf) != 1) {
		aw_error("serve: --listen '%s': '%s' is not an IPv4 address",
			 arg, host);
		return -1;
	}
	return 0;
}

/*
 * "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every address: IPv6 and IPv4
 * when the host has IPv6) into ai (freeaddrinfo() it). 0, or -1 with a
 * message.
 */
static int parse_listen(const char *arg, struct addrinfo **ai)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints = {0};

	if (!colon) {
		aw_error("serve: --listen wants ADDR:PORT, not '%s'", arg);
		return -1;
	}
	if (!valid_port(colon + 1)) {
		aw_error("serve: --listen '%s': the port must be a number "
			 "from 1 to 65535",
			 arg);
		return -1;
	}
	size_t hl = (size_t)(colon - arg);
	if (hl >= sizeof(host)) {
		aw_error("serve: --listen '%s': address too long", arg);
		return -1;
	}
	memcpy(host, arg, hl);
	host[hl] = '\0';
	int v6 = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
	if (v6) {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (check_numeric(arg, host, v6))
		return -1;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, ai);
	if (rc) {
		aw_error("serve: --listen '%s': %s", arg, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* A listening socket on the first address of ai that takes one. The fd,
 * or -1 with a message. */
static int open_listener(const char *arg, const struct addrinfo *ai)
{
	int saved = 0;

	for (; ai; ai = ai->ai_next) {
		int fd =
		    socket(ai->ai_family,
			   ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1, zero = 0;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* [::] takes IPv4 too, as ":PORT" promises. */
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 64) == 0)
			return fd;
		saved = errno;
		close(fd);
	}
	aw_error("serve: cannot listen on %s: %s", arg, strerror(saved));
	return -1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The client behind connection fd, into k. */
static void client_key_of(int fd, struct client_key *k)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(k, 0, sizeof(*k));
	if (sockdiag_peer_uid(fd, &k->uid) == 0) {
		k->local = 1;
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		return; /* gone already: all such count as one */
	k->family = ss.ss_family;
	if (ss.ss_family == AF_INET)
		memcpy(k->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(k->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
}

/*
 * libmicrohttpd's notice of a connection opened or closed, on its thread,
 * before any byte is read: a client past SERVE_PER_CLIENT (or one that
 * cannot be counted) has the new connection shut down at once, which the
 * server then closes like any other.
 */
static void client_notify(void *cls, struct MHD_Connection *c,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct client *cl = *socket_context;
	(void)cls;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (cl && --cl->open == 0) {
			HASH_DEL(clients, cl);
			free(cl);
		}
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	int fd = ci->connect_fd;
	struct client_key k;
	client_key_of(fd, &k);
	HASH_FIND(hh, clients, &k, sizeof(k), cl);
	if (!cl && (cl = calloc(1, sizeof(*cl))) != NULL) {
		cl->key = k;
		client_add_failed = 0;
		HASH_ADD(hh, clients, key, sizeof(cl->key), cl);
		if (client_add_failed) {
			free(cl);
			cl = NULL;
		}
	}
	if (!cl || cl->open >= SERVE_PER_CLIENT) {
		shutdown(fd, SHUT_RDWR);
		return;
	}
	cl->open++;
	*socket_context = cl;
}

/* SERVE_STOP_S after SIGTERM the server has not stopped: a connection it
 * cannot let go of. Stop anyway: nothing is left to save. */
static void stop_now(int sig)
{
	static const char msg[] =
	    "acceptwatch: serve: the HTTP server did not stop in time; "
	    "exiting\n";
	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(AW_EXIT_OK);
	_exit(AW_EXIT_OK);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status,
			       struct MHD_Response *resp, const char *type)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_static(struct MHD_Connection *c,
				      unsigned int status, const char *text,
				      const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (resp && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					"GET, HEAD");
	return respond(c, status, resp, type);
}

/*
 * One /metrics response on its way: the exposition, read from doc a piece
 * at a time as the scraper takes it (never whole in memory), deflated into
 * gzip on the way when the scraper accepts it.
 */
struct serve_body {
	struct prom_doc *doc;
	int gzip;
	int eof;  /* doc read to its end */
	int done; /* the gzip trailer is out */
	z_stream z;
	char in[SERVE_BLOCK];
};

static void body_free(void *cls)
{
	struct serve_body *b = cls;

	if (b->gzip)
		deflateEnd(&b->z);
	report_prom_free(b->doc);
	free(b);
}

/* Up to max bytes of gzip into buf; never 0 before the end (0 would make
 * the server ask again at once). */
static ssize_t body_deflate(struct serve_body *b, char *buf, size_t max)
{
	b->z.next_out = (Bytef *)buf;
	b->z.avail_out = (uInt)(max > UINT32_MAX ? UINT32_MAX : max);
	while (b->z.avail_out > 0 && !b->done) {
		if (b->z.avail_in == 0 && !b->eof) {
			size_t n =
			    report_prom_read(b->doc, b->in, sizeof(b->in));
			b->z.next_in = (Bytef *)b->in;
			b->z.avail_in = (uInt)n;
			b->eof = n == 0;
		}
		int rc = deflate(&b->z, b->eof ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			b->done = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = (size_t)((char *)b->z.next_out - buf);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)n;
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct serve_body *b = cls;
	(void)pos;

	if (b->gzip)
		return body_deflate(b, buf, max);
	size_t n = report_prom_read(b->doc, buf, max);
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * Whether an Accept-Encoding value takes gzip: a "gzip" (or "x-gzip", or
 * "*") coding whose q is not 0. RFC 9110 12.5.3; no value, no gzip.
 */
static int accepts_gzip(const char *v)
{
	while (v && *v) {
		size_t n = strcspn(v, ",");
		char item[64];
		if (n < sizeof(item)) {
			memcpy(item, v, n);
			item[n] = '\0';
			char *semi = strchr(item, ';');
			char *q = semi ? strstr(semi, "q=") : NULL;
			if (semi)
				*semi = '\0';
			char *name = item + strspn(item, " \t");
			name[strcspn(name, " \t")] = '\0';
			int ok = !q || strtod(q + 2, NULL) > 0;
			if (ok &&
			    (!strcasecmp(name, "gzip") ||
			     !strcasecmp(name, "x-gzip") || !strcmp(name, "*")))
				return 1;
		}
		v += n;
		v += *v == ',';
	}
	return 0;
}

struct scrape {
	struct prom_doc *doc;
	struct sample_host_held held; /* the sockets segments speak for */
};

static int gather_add(void *arg, const struct model_process *snap)
{
	struct scrape *sc = arg;

	/* Out of memory holding: a socket may show twice, never wrong. */
	sample_host_hold(&sc->held, snap);
	return report_prom_add(sc->doc, snap);
}

/* The sockets no segment spoke for, as the kernel's figures since the
 * previous scrape. */
static void add_kernel(struct scrape *sc)
{
	struct model_process snap;

	pthread_mutex_lock(&host_lock);
	int ret = sample_host_take(&host_sampler, &snap, &sc->held);
	pthread_mutex_unlock(&host_lock);
	if (ret == 0 && report_prom_add(sc->doc, &snap))
		aw_error("serve: out of memory");
	model_process_free(&snap);
}

/* Every segment read into a new body: NULL when out of memory. Memory
 * stays flat in the number of processes: each snapshot is folded in and
 * freed as it is read. */
static struct serve_body *metrics_body(const struct serve_opts *o, int gzip)
{
	struct gather_opts g = {.no_names = 1};
	struct report r;
	char err[SEGMENT_ERR_LEN];
	double start = mono_s();
	struct serve_body *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->doc = report_prom_new(o->by_process);
	if (!b->doc) {
		free(b);
		return NULL;
	}
	/* Unreadable segments are counted in the exposition; on stderr
	 * they would fill a journal at every scrape. */
	struct scrape sc = {.doc = b->doc};
	if (gather_each(&r, &g, gather_add, &sc, err, sizeof(err)) < 0)
		aw_error("%s", err);
	add_kernel(&sc);
	sample_host_held_free(&sc.held);
	report_prom_totals(b->doc, r.n_unreadable, mono_s() - start);
	gather_free(&r);
	/* gzip (windowBits 16 + 15); the fastest level: the exposition's
	 * repeated names and labels shrink ~25x even so. */
	if (gzip && deflateInit2(&b->z, Z_BEST_SPEED, Z_DEFLATED, 31, 8,
				 Z_DEFAULT_STRATEGY) == Z_OK)
		b->gzip = 1;
	return b;
}

/* The /metrics response: the exposition streamed, gzip when asked. */
static enum MHD_Result respond_metrics(struct MHD_Connection *c,
				       const struct serve_opts *o)
{
	int gzip = accepts_gzip(MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	struct serve_body *b = metrics_body(o, gzip);
	if (!b)
		return respond_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "out of memory\n", "text/plain");
	struct MHD_Response *resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, SERVE_BLOCK, body_read, b, body_free);
	if (!resp) {
		body_free(b);
		return MHD_NO;
	}
	if (b->gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
					"gzip");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
				MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return respond(c, MHD_HTTP_OK, resp, SERVE_CONTENT_TYPE);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	const struct serve_opts *o = cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_static(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "only GET and HEAD\n", "text/plain");
	if (!strcmp(url, "/"))
		return respond_static(c, MHD_HTTP_OK, serve_index,
				      "text/html; charset=utf-8");
	if (strcmp(url, "/metrics"))
		return respond_static(c, MHD_HTTP_NOT_FOUND, "not found\n",
				      "text/plain");
	return respond_metrics(c, o);
}

/* "ADDR:PORT" of fd's bound address, for the start-up line. */
static void bound_name(int fd, char *dst, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (void *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			port = ntohs(s6->sin6_port);
			snprintf(dst, len, "[%s]:%u", host, port);
			return;
		}
		const struct sockaddr_in *s4 = (void *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	}
	snprintf(dst, len, "%s:%u", host, port);
}

/* Sample the host at SAMPLE_HOST_HZ until a signal of stop arrives: the
 * signal. */
static int sample_until(const sigset_t *stop)
{
	const long period = 1000000000L / SAMPLE_HOST_HZ;
	struct timespec ts;
	int sig;

	for (;;) {
		ts.tv_sec = 0;
		ts.tv_nsec = period;
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig > 0)
			return sig;
		pthread_mutex_lock(&host_lock);
		sample_host_tick(&host_sampler, sample_host_now());
		pthread_mutex_unlock(&host_lock);
	}
}

int serve_command(int argc, char **argv)
{
	struct serve_opts o = {0};
	struct addrinfo *ai;
	sigset_t stop;
	char name[INET6_ADDRSTRLEN + 16];

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (parse_listen(o.listen, &ai))
		return AW_EXIT_USAGE;
	proc_cache_enable(); /* every scrape reads the same processes */
	int fd = open_listener(o.listen, ai);
	freeaddrinfo(ai);
	if (fd < 0)
		return AW_EXIT_PROBLEM;
	/* Blocked before the server's thread starts, which inherits the
	 * mask: only sigwait() below takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Before the first scrape can come: its sockets have a reading. */
	sample_host_init(&host_sampler);
	sample_host_tick(&host_sampler, sample_host_now());
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL, handle,
	    &o, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
	    SERVE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, SERVE_MAX_CONNECTIONS,
	    MHD_OPTION_NOTIFY_CONNECTION, client_notify, NULL, MHD_OPTION_END);
	if (!d) {
		aw_error("serve: the HTTP server did not start");
		close(fd);
		return AW_EXIT_PROBLEM;
	}
	bound_name(fd, name, sizeof(name));
	aw_error("serving http://%s/metrics", name);
	fflush(stderr);
	sample_until(&stop);
	signal(SIGALRM, stop_now);
	alarm(SERVE_STOP_S);
	MHD_stop_daemon(d);
	alarm(0);
	close(fd);
	sample_host_free(&host_sampler);
	return AW_EXIT_OK;
}
