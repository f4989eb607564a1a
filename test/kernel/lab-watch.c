/*
 * lab-watch: the guest's own view of the modules a scenario swaps, independent of whatever
 * runs the swap (the lab checks the agent; it must not take the agent's word for the kernel's
 * state). Every --interval-ms it reads /sys/module/NAME/{initstate,refcnt,version,srcversion}
 * and the names in /sys/module/NAME/holders/, and prints one JSON line per module whenever
 * any of them changed:
 *
 *   {"t":"mod","name":"hs_lab","at":1234.567,"state":"live","refcnt":1,"version":"2.0",
 *    "srcversion":"7F81...","holders":"hs_x,hs_y"}
 *
 * "state" is "absent" when the module is not loaded (then refcnt is -1 and the strings are
 * empty). Each --path is reported when it appears or disappears:
 *
 *   {"t":"path","path":"/sys/class/misc/hs_lab0","at":1234.567,"exists":false}
 *
 * (a driver's class device vanishes the moment its remove() deregisters it: when an unbind
 * write reached the driver, whatever the writer's own timing). Times are CLOCK_MONOTONIC
 * milliseconds, the clock refapp reports on. Runs until SIGTERM. Polling a few sysfs files
 * every few ms is cheap next to what it observes (an unload or a load takes 100+ ms under
 * TCG), and it costs no kernel support beyond sysfs.
 *
 * usage: lab-watch [--interval-ms N] [--path PATH]... MODULE...
 * Built on the host: gcc -static -O2 -o lab-watch lab-watch.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MODULES 16
#define MAX_PATHS 8
#define FIELD 64
#define HOLDERS 256

struct mod_state {
	char state[FIELD]; /* initstate: live, coming, going; "absent" */
	long refcnt;
	char version[FIELD];
	char srcversion[FIELD];
	char holders[HOLDERS]; /* comma-separated, sorted as readdir gives them */
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The first line of a sysfs file, without its newline; "" when it cannot be read. */
static void read_line(const char *module, const char *file, char *buf, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "/sys/module/%s/%s", module, file);
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void read_holders(const char *module, char *buf, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "/sys/module/%s/holders", module);
	buf[0] = '\0';
	DIR *dir = opendir(path);
	if (!dir) return;
	size_t used = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.') continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", entry->d_name);
		if (n < 0 || (size_t)n >= len - used) break;
		used += (size_t)n;
	}
	closedir(dir);
}

static void sample(const char *module, struct mod_state *s)
{
	char refcnt[FIELD];
	memset(s, 0, sizeof *s);
	read_line(module, "initstate", s->state, sizeof s->state);
	if (s->state[0] == '\0') {
		strcpy(s->state, "absent");
		s->refcnt = -1;
		return;
	}
	read_line(module, "refcnt", refcnt, sizeof refcnt);
	s->refcnt = refcnt[0] ? atol(refcnt) : -1;
	read_line(module, "version", s->version, sizeof s->version);
	read_line(module, "srcversion", s->srcversion, sizeof s->srcversion);
	read_holders(module, s->holders, sizeof s->holders);
}

int main(int argc, char **argv)
{
	long interval_ms = 5;
	const char *paths[MAX_PATHS];
	int npaths = 0, first = 1;
	while (first + 1 < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--interval-ms") == 0)
			interval_ms = atol(argv[first + 1]);
		else if (strcmp(argv[first], "--path") == 0 && npaths < MAX_PATHS)
			paths[npaths++] = argv[first + 1];
		else
			break;
		first += 2;
	}
	int count = argc - first;
	if (count < 1 || count > MAX_MODULES || interval_ms <= 0 || (first < argc && argv[first][0] == '-')) {
		fprintf(stderr, "usage: lab-watch [--interval-ms N] [--path PATH]... MODULE... (%d modules, %d paths)\n",
			MAX_MODULES, MAX_PATHS);
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct mod_state last[MAX_MODULES], now;
	memset(last, 0, sizeof last); /* state "" never matches: the first sample is always printed */
	int path_last[MAX_PATHS];
	for (int i = 0; i < npaths; i++) path_last[i] = -1; /* never a sample: the first is printed */
	struct timespec tick = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
	while (!stop_requested) {
		for (int i = 0; i < count; i++) {
			const char *module = argv[first + i];
			sample(module, &now);
			if (memcmp(&now, &last[i], sizeof now) == 0) continue;
			last[i] = now;
			/* One write per line: the init script forwards whole lines only. */
			char line[768];
			int n = snprintf(line, sizeof line,
					 "{\"t\":\"mod\",\"name\":\"%s\",\"at\":%.3f,\"state\":\"%s\",\"refcnt\":%ld,"
					 "\"version\":\"%s\",\"srcversion\":\"%s\",\"holders\":\"%s\"}\n",
					 module, mono_ms(), now.state, now.refcnt, now.version, now.srcversion,
					 now.holders);
			if (n > 0 && (size_t)n < sizeof line && write(STDOUT_FILENO, line, (size_t)n) < 0 &&
			    errno != EINTR)
				return 1;
		}
		for (int i = 0; i < npaths; i++) {
			int exists = access(paths[i], F_OK) == 0;
			if (exists == path_last[i]) continue;
			path_last[i] = exists;
			char line[512];
			int n = snprintf(line, sizeof line, "{\"t\":\"path\",\"path\":\"%s\",\"at\":%.3f,\"exists\":%s}\n",
					 paths[i], mono_ms(), exists ? "true" : "false");
			if (n > 0 && (size_t)n < sizeof line && write(STDOUT_FILENO, line, (size_t)n) < 0 &&
			    errno != EINTR)
				return 1;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}
