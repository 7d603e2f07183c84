// rateload: an HTTP/1.1 load generator for bench router: open loop at a fixed rate (wrk2's model), or closed loop.
//
// usage: rateload IPV4 PORT PATH HOST CONNECTIONS RATE|closed WARMUP SECONDS
//
// Request k of the run is due at t0 + k / RATE and belongs to connection k mod CONNECTIONS. A connection has one
// request in flight at a time (keep-alive, no pipelining), so a request due while its connection is busy waits,
// and its latency is counted from when it was due, not from when it went out: coordinated-omission corrected.
// Requests due in the first WARMUP seconds are sent and awaited but not counted (wrk2's calibration): whatever the
// target did before (idle, or another target's load just ended) settles first. After WARMUP + SECONDS nothing new
// falls due, but every request that did is still sent and awaited (up to 10 s), so a
// backlog shows in the percentiles instead of being dropped. Responses must carry Content-Length.
//
// RATE "closed": a closed loop, like wrk's, for saturation. Each connection sends its next request as soon as its
// last response is in (within the same wake-up; wrk waits for the next one) and a latency runs from the send.
// Responses that come in during the SECONDS after WARMUP are counted; what is in flight at the end is not (as wrk).
//
// Prints one line: RATELOAD requests errors bytes elapsed_us p50 p99 p99.9 max warmup_requests total_elapsed_us
// (latencies in microseconds; all but the last two of the measured requests only).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
#define DRAIN_NS (10LL * 1000000000LL)
#define TICK_NS 50000LL

struct conn {
	int fd;
	int connected;
	uint64_t due;      // requests of this connection that have fallen due
	uint64_t sent;     // of those, sent (the in-flight one is sent - 1 when busy)
	int busy;
	long long sent_at; // when the in-flight request went out
	size_t have;       // bytes of the current response read so far
	long long need;    // the response's total length once its head is in, else -1
	uint64_t got;      // bytes of the current response so far
	char buf[BUF];
};

static struct sockaddr_in target;
static char request[4096];
static size_t request_len;
static int nconns, epfd;
static double rate;
static long long t0, measured_from, end_at;
static int closed;
static uint64_t *latencies, recorded, warm, capacity, errors, bytes;

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
	perror(what);
	exit(2);
}

// When connection i's j-th request falls due: it is request j * nconns + i of the run.
static long long due_at(int i, uint64_t j) {
	return t0 + (long long)(((double)j * nconns + i) * 1e9 / rate);
}

static void open_conn(struct conn *c, int i) {
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) die("socket");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) die("connect");
	c->connected = 0;
	c->busy = 0;
	c->have = 0;
	c->need = -1;
	c->got = 0;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u32 = (uint32_t)i };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

// A connection whose connect finished: readable from now on, or 0 if the connect failed.
static int connected_now(struct conn *c, int i) {
	int err = 0;
	socklen_t len = sizeof err;
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) { errno = err; return 0; }
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
	c->connected = 1;
	return 1;
}

static void fail(struct conn *c, int i);

static void send_next(struct conn *c, int i) {
	if (closed) c->due = c->sent + 1; // always one more due: the closed loop's next request
	if (!c->connected || c->busy || c->sent >= c->due) return;
	// One small request on an idle keep-alive connection: it fits the socket buffer whole.
	c->sent_at = now_ns();
	ssize_t n = send(c->fd, request, request_len, MSG_NOSIGNAL);
	c->sent++;
	c->busy = 1;
	if (n != (ssize_t)request_len) fail(c, i);
}

static void record(long long latency_ns) {
	if (recorded == capacity) {
		capacity *= 2;
		latencies = realloc(latencies, capacity * sizeof *latencies);
		if (!latencies) die("realloc");
	}
	latencies[recorded++] = (uint64_t)(latency_ns < 0 ? 0 : latency_ns) / 1000;
}

// The response's length from its head, or -1 while the head is incomplete, or -2 if it has no Content-Length.
static long long response_length(struct conn *c) {
	char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
	if (!end) return c->have == BUF ? -2 : -1;
	size_t head = (size_t)(end - c->buf) + 4;
	for (char *line = memchr(c->buf, '\n', head); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
		if (strncasecmp(line + 1, "content-length:", 15) == 0) return (long long)head + atoll(line + 16);
	}
	return -2;
}

// A connection that broke or answered what this cannot frame: the in-flight request is an error, and it reconnects.
static void fail(struct conn *c, int i) {
	if (c->busy) errors++; // its request is lost; the next due one goes on the new connection
	c->busy = 0;
	close(c->fd);
	open_conn(c, i);
}

static void on_readable(struct conn *c, int i) {
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->have, BUF - c->have, 0);
		if (n == 0) { fail(c, i); return; }
		if (n < 0) {
			if (errno == EAGAIN) return;
			fail(c, i);
			return;
		}
		c->got += (uint64_t)n;
		c->have += (size_t)n;
		if (c->need < 0) {
			c->need = response_length(c);
			if (c->need == -2 || !c->busy) { fail(c, i); return; }
		}
		if (c->need < 0) continue;
		if ((long long)c->have < c->need) { // the head is parsed: what is in is counted and dropped
			c->need -= (long long)c->have;
			c->have = 0;
			continue;
		}
		if ((long long)c->have > c->need) { fail(c, i); return; } // more than one response: not ours to frame
		long long now = now_ns();
		if (closed && now > end_at) { c->busy = 0; return; } // the run is over: nothing more is sent or counted
		// Latency runs from the send in the closed loop, from when the request fell due in the open one; the warm-up
		// is by when the response came in (closed) or when the request fell due (open).
		long long from = closed ? c->sent_at : due_at(i, c->sent - 1);
		if ((closed ? now : from) >= measured_from) {
			record(now - from);
			bytes += c->got;
		} else {
			warm++;
		}
		c->got = 0;
		c->busy = 0;
		c->have = 0;
		c->need = -1;
		send_next(c, i);
		return; // nothing more is owed on this connection until the next response: no recv to see EAGAIN
	}
}

static int cmp(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pct(double p) {
	if (recorded == 0) return 0;
	size_t k = (size_t)(p / 100.0 * (double)recorded);
	return latencies[k >= recorded ? recorded - 1 : k];
}

static void summary(uint64_t failed, long long elapsed, long long end) {
	qsort(latencies, recorded, sizeof *latencies, cmp);
	printf("RATELOAD %llu %llu %llu %lld %llu %llu %llu %llu %llu %lld\n", (unsigned long long)recorded, (unsigned long long)failed,
	       (unsigned long long)bytes, elapsed / 1000, (unsigned long long)pct(50), (unsigned long long)pct(99), (unsigned long long)pct(99.9),
	       (unsigned long long)(recorded ? latencies[recorded - 1] : 0), (unsigned long long)warm, (end - t0) / 1000);
}

// Up to wait_ns for connections to answer (or finish reconnecting), and everything they have for now handled.
static void serve(struct conn *conns, struct epoll_event *events, long long wait_ns) {
	struct timespec timeout = { .tv_sec = wait_ns / 1000000000LL, .tv_nsec = wait_ns % 1000000000LL };
	int n = epoll_pwait2(epfd, events, 256, &timeout, NULL);
	if (n < 0 && errno != EINTR) die("epoll_pwait2");
	for (int e = 0; e < n; e++) {
		int i = (int)events[e].data.u32;
		struct conn *c = &conns[i];
		if (!c->connected) { // a reconnect after a failure
			if (connected_now(c, i)) send_next(c, i);
			else fail(c, i);
		} else on_readable(c, i);
	}
}

// The closed loop: every connection busy from the start, each response answered by the next request, until end_at.
static int run_closed(struct conn *conns, struct epoll_event *events) {
	for (int i = 0; i < nconns; i++) send_next(&conns[i], i);
	for (long long now = now_ns(); now <= end_at; now = now_ns()) serve(conns, events, end_at - now);
	summary(errors, end_at - measured_from, now_ns());
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 9) {
		fprintf(stderr, "usage: rateload IPV4 PORT PATH HOST CONNECTIONS RATE|closed WARMUP SECONDS\n");
		return 2;
	}
	memset(&target, 0, sizeof target);
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) { fprintf(stderr, "rateload: not an IPv4 address: %s\n", argv[1]); return 2; }
	nconns = atoi(argv[5]);
	closed = strcmp(argv[6], "closed") == 0;
	rate = closed ? 0 : atof(argv[6]);
	double warmup = atof(argv[7]), seconds = atof(argv[8]);
	if (!closed && !(rate > 0)) { fprintf(stderr, "rateload: RATE must be a positive number of requests/s or closed, not '%s'\n", argv[6]); return 2; }
	if (nconns < 1 || warmup < 0 || seconds <= 0) { fprintf(stderr, "rateload: connections (%s) and seconds (%s) must be positive, warmup (%s) not negative\n", argv[5], argv[8], argv[7]); return 2; }
	request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[3], argv[4]);

	struct conn *conns = calloc((size_t)nconns, sizeof *conns);
	capacity = closed ? 1 << 20 : (uint64_t)(rate * seconds * 1.2) + 1024;
	latencies = malloc(capacity * sizeof *latencies);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || !latencies || epfd < 0) die("setup");
	for (int i = 0; i < nconns; i++) open_conn(&conns[i], i);

	struct epoll_event events[256];
	int connected = 0;
	while (connected < nconns) { // every connection up before the clock starts
		int n = epoll_wait(epfd, events, 256, 10000);
		if (n <= 0) { fprintf(stderr, "rateload: %d of %d connections up after 10 s\n", connected, nconns); return 1; }
		for (int e = 0; e < n; e++) {
			struct conn *c = &conns[events[e].data.u32];
			if (c->connected) continue;
			if (!connected_now(c, (int)events[e].data.u32)) { perror("rateload: connect"); return 1; }
			connected++;
		}
	}

	t0 = now_ns();
	measured_from = t0 + (long long)(warmup * 1e9);
	end_at = measured_from + (long long)(seconds * 1e9);
	if (closed) return run_closed(conns, events);
	uint64_t total = (uint64_t)(rate * (warmup + seconds)), next = 0;
	long long deadline = measured_from + (long long)(seconds * 1e9) + DRAIN_NS;
	for (;;) {
		long long now = now_ns();
		for (; next < total; next++) { // everything due by now goes out on its connection, if that is idle
			long long due = t0 + (long long)((double)next * 1e9 / rate);
			if (due > now) break;
			struct conn *c = &conns[next % (uint64_t)nconns];
			c->due++;
			send_next(c, (int)(next % (uint64_t)nconns));
		}
		if (next == total) {
			uint64_t done = recorded + warm + errors;
			if (done >= total || now > deadline) break;
		}
		// A wake-up per request would cost more CPU than the request, on the core the dyno shares: the loop sleeps
		// at least TICK_NS and sends what fell due meanwhile, each request still timed from its own due time.
		long long wait = next < total ? t0 + (long long)((double)next * 1e9 / rate) - now : 100000000LL;
		if (wait < TICK_NS) wait = TICK_NS;
		serve(conns, events, wait);
	}
	long long end = now_ns();
	uint64_t unanswered = total - (recorded + warm + errors < total ? recorded + warm + errors : total);
	summary(errors + unanswered, end - measured_from, end);
	return 0;
}
