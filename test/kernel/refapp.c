/*
 * refapp: the kernel lab's reference application, the ground truth the agent is checked
 * against. It behaves like a highly available application holding a device node:
 *
 *   open the node -> exercise it every millisecond (write or read one byte)
 *   -> on the first error: note the errno, keep the (zombie) FD open for --hold-ms,
 *      close it, retry open every millisecond -> on success: report the cycle.
 *
 * Every figure comes from its own CLOCK_MONOTONIC, in milliseconds. Output: JSON lines on
 * stdout (or --out FILE), one write(2) per line:
 *   {"t":"app-start", ...}   once the node is first opened
 *   {"t":"cycle", ...}       per error -> reopen cycle: errno, errorAt, closedAt, reopenAt,
 *                            recoveryMs (errorAt -> reopenAt), the errnos open saw meanwhile
 *   {"t":"app-end", ...}     on SIGTERM/SIGINT or after --cycles cycles (--ignore-sigterm:
 *                            SIGTERM does nothing, so a SIGKILL ends it without this line)
 * With --watch-node, the node's path vanishing while the FD still works counts as the error
 * (errno "NODE-GONE"): the wait scheme, whose remove() takes the node away and then sleeps
 * until every file is closed; an application told to let go (like a VFIO user receiving the
 * kernel's release request) closes after --hold-ms and reopens the node once it is back.
 * `refapp --clock` prints the monotonic clock (ms) and exits: the lab's guest scripts use it
 * to stamp their own events on the same clock.
 *
 * Built on the host: gcc -static -O2 -o refapp refapp.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPEN_ERRNOS 8

struct options {
	const char *name;
	const char *node;
	const char *out;
	int write_op; /* 1: write one byte per tick, 0: read (non-blocking) */
	long hold_ms;
	long cycles; /* 0: until signalled */
	long tick_us;
	int watch_node; /* treat the node's path vanishing as an error */
	int ignore_sigterm; /* like a process that does not honour SIGTERM: only SIGKILL ends it */
};

/* Not an errno: the node's path vanished while the FD kept working (--watch-node). */
#define NODE_GONE (-1)

static volatile sig_atomic_t stop_requested;
static int out_fd = STDOUT_FILENO;

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static double now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double mono_ms(void) { return now_ms(CLOCK_MONOTONIC); }

/* One JSON line, one write(2): lines from several processes never interleave. */
static void emit(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
	line[n++] = '\n';
	ssize_t off = 0;
	while (off < n) {
		ssize_t w = write(out_fd, line + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return;
		off += w;
	}
}

static const char *errno_name(int e)
{
	if (e == NODE_GONE) return "NODE-GONE";
	const char *name = strerrorname_np(e);
	return name ? name : "E?";
}

/* Sleep until the next tick on an absolute schedule, so the cadence does not drift. */
static void sleep_until(struct timespec *next, long tick_us)
{
	next->tv_nsec += tick_us * 1000L;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR && !stop_requested) {
	}
}

/* O_NONBLOCK: a full queue or an empty port is EAGAIN (not an error), never a stall. */
static int open_node(const struct options *o)
{
	return open(o->node, (o->write_op ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
}

/* One exercise of the device: 0 on success (EAGAIN counts as success), else the errno. */
static int exercise(int fd, int write_op)
{
	char byte = 'x';
	ssize_t r = write_op ? write(fd, &byte, 1) : read(fd, &byte, 1);
	if (r >= 0 || errno == EAGAIN || errno == EINTR) return 0;
	return errno;
}

/* --watch-node: the path no longer leads to the file this FD holds (gone or recreated). */
static int node_gone(const char *node, int fd)
{
	struct stat held, now;
	if (fstat(fd, &held) != 0) return 0;
	if (stat(node, &now) != 0) return errno == ENOENT;
	return now.st_ino != held.st_ino || now.st_rdev != held.st_rdev;
}

static void describe_fd(int fd, char *buf, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) == 0)
		snprintf(buf, len, "\"dev\":\"%u:%u\",\"ino\":%lu", major(st.st_rdev), minor(st.st_rdev),
			 (unsigned long)st.st_ino);
	else
		snprintf(buf, len, "\"dev\":null,\"ino\":null");
}

/*
 * Retries open every tick until it succeeds (or a stop is requested), recording the distinct
 * errnos seen in order (ENOENT: no node yet; ENXIO: node there, port not ready; EBUSY: taken).
 */
static int reopen(const struct options *o, struct timespec *next, char *seen, size_t seen_len, long *attempts)
{
	int last = 0, distinct = 0;
	size_t used = 0;
	seen[0] = '\0';
	*attempts = 0;
	while (!stop_requested) {
		int fd = open_node(o);
		(*attempts)++;
		if (fd >= 0) return fd;
		int e = errno;
		if (e != last && distinct < MAX_OPEN_ERRNOS) {
			int n = snprintf(seen + used, seen_len - used, "%s\"%s\"", distinct ? "," : "", errno_name(e));
			if (n > 0 && (size_t)n < seen_len - used) used += (size_t)n;
			last = e;
			distinct++;
		}
		sleep_until(next, o->tick_us);
	}
	return -1;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: refapp --node PATH [--name NAME] [--op write|read] [--hold-ms N] [--cycles N]\n"
		    "              [--tick-us N] [--out FILE] [--watch-node] [--ignore-sigterm]\n"
		    "       refapp --clock   (print CLOCK_MONOTONIC in ms)\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"name", required_argument, 0, 'n'},   {"node", required_argument, 0, 'd'},
		{"op", required_argument, 0, 'o'},     {"hold-ms", required_argument, 0, 'h'},
		{"cycles", required_argument, 0, 'c'}, {"tick-us", required_argument, 0, 't'},
		{"out", required_argument, 0, 'f'},    {"clock", no_argument, 0, 'k'},
		{"watch-node", no_argument, 0, 'w'},   {"ignore-sigterm", no_argument, 0, 'i'},
		{"help", no_argument, 0, '?'},         {0, 0, 0, 0},
	};
	*o = (struct options){.name = "refapp", .write_op = 1, .tick_us = 1000};
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'd': o->node = optarg; break;
		case 'o':
			if (strcmp(optarg, "write") && strcmp(optarg, "read")) return -1;
			o->write_op = strcmp(optarg, "write") == 0;
			break;
		case 'h': o->hold_ms = atol(optarg); break;
		case 'c': o->cycles = atol(optarg); break;
		case 't': o->tick_us = atol(optarg); break;
		case 'f': o->out = optarg; break;
		case 'w': o->watch_node = 1; break;
		case 'i': o->ignore_sigterm = 1; break;
		case 'k': printf("%.3f\n", mono_ms()); exit(0);
		default: return -1;
		}
	}
	if (!o->node || o->hold_ms < 0 || o->cycles < 0 || o->tick_us <= 0) return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_options(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	if (o.out) {
		out_fd = open(o.out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			perror(o.out);
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	sigaction(SIGTERM, o.ignore_sigterm ? &ignore : &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	const char *op = o.write_op ? "write" : "read";
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	char seen[160], fdinfo[96];
	long attempts;
	int fd = reopen(&o, &next, seen, sizeof seen, &attempts);
	if (fd < 0) return 1;
	describe_fd(fd, fdinfo, sizeof fdinfo);
	/* Both clocks at one instant: lets the host line up wall-clock timestamps (the agent's). */
	emit("{\"t\":\"app-start\",\"name\":\"%s\",\"pid\":%d,\"node\":\"%s\",\"op\":\"%s\",\"holdMs\":%ld,"
	     "\"openedAt\":%.3f,\"realtimeMs\":%.3f,\"monotonicMs\":%.3f,%s}",
	     o.name, getpid(), o.node, op, o.hold_ms, mono_ms(), now_ms(CLOCK_REALTIME), mono_ms(), fdinfo);

	long cycle = 0, ok_ops = 0;
	while (!stop_requested && (o.cycles == 0 || cycle < o.cycles)) {
		int err = exercise(fd, o.write_op);
		if (err == 0 && o.watch_node && node_gone(o.node, fd)) err = NODE_GONE;
		if (err == 0) {
			ok_ops++;
			sleep_until(&next, o.tick_us);
			continue;
		}
		double error_at = mono_ms();
		if (o.hold_ms > 0) { /* keep the zombie FD open, like a slow application */
			struct timespec hold = {o.hold_ms / 1000, (o.hold_ms % 1000) * 1000000L};
			while (nanosleep(&hold, &hold) == -1 && errno == EINTR && !stop_requested) {
			}
		}
		/*
		 * Both sides of close(): the driver's release runs inside it, and whatever that
		 * wakes (an unbind waiting for the last close) may run before this process reads
		 * the clock again. "After the close" means after closingAt.
		 */
		double closing_at = mono_ms();
		close(fd);
		double closed_at = mono_ms();
		clock_gettime(CLOCK_MONOTONIC, &next);
		fd = reopen(&o, &next, seen, sizeof seen, &attempts);
		if (fd < 0) break;
		double reopen_at = mono_ms();
		describe_fd(fd, fdinfo, sizeof fdinfo);
		cycle++;
		emit("{\"t\":\"cycle\",\"name\":\"%s\",\"pid\":%d,\"cycle\":%ld,\"errno\":\"%s\",\"op\":\"%s\","
		     "\"errorAt\":%.3f,\"closingAt\":%.3f,\"closedAt\":%.3f,\"reopenAt\":%.3f,\"recoveryMs\":%.3f,"
		     "\"openErrors\":[%s],\"openAttempts\":%ld,\"okOps\":%ld,%s}",
		     o.name, getpid(), cycle, errno_name(err), op, error_at, closing_at, closed_at, reopen_at,
		     reopen_at - error_at,
		     seen, attempts, ok_ops, fdinfo);
		ok_ops = 0;
	}
	emit("{\"t\":\"app-end\",\"name\":\"%s\",\"pid\":%d,\"cycles\":%ld,\"at\":%.3f,\"holding\":%s}", o.name, getpid(),
	     cycle, mono_ms(), fd >= 0 ? "true" : "false");
	return 0;
}
