// The comparison samplers of Benchmarks/sampler, in C. Every full sample gets the same figures as
// ProcessSampler: CPU time (user+system), RSS, num_threads, uptime, read_bytes/write_bytes and the
// open fd count.
//
//   naive-sampler PID COUNT MODE
//     naive      the naive way: open/read/close /proc/PID/stat and io each time, count fd/ entries
//     kept-stat  stat, io and fd/ opened once; pread at offset 0 + fstat(fd/) (the floor of the
//                stat-based method, ~2.5 us in NOTES.md)
//     naive-ours ProcessSampler's sources opened each time: CPU clock, open/read/close statm and io,
//                stat() of task/ (nlink) and fd/ (size)
//     kept-ours  ProcessSampler's method in C: CPU clock, kept-open statm and io, fstat of task/ and fd/
//
// Prints "median_ns N" and "p90_ns N" over COUNT timed samples (after a warm-up of COUNT/10).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sample {
    double cpu_seconds, uptime_seconds;
    long long rss_bytes, threads, read_bytes, write_bytes, fds;
};

static char buffer[4096];
static double ticks_per_second;
static long long page_size;

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_stat(const char *text, ssize_t length, struct sample *out) {
    const char *close = NULL;
    for (ssize_t i = length - 1; i >= 0; i--) {
        if (text[i] == ')') { close = text + i; break; }
    }
    if (!close) return -1;
    const char *p = close + 3;  // past ") " and the state letter
    long long ticks = 0;
    for (int field = 4; field <= 24; field++) {
        char *end;
        long long value = strtoll(p, &end, 10);
        if (end == p) return -1;
        if (field == 14 || field == 15) ticks += value;
        if (field == 20) out->threads = value;
        if (field == 22) out->uptime_seconds = clock_seconds(CLOCK_BOOTTIME) - (double)value / ticks_per_second;
        if (field == 24) out->rss_bytes = value * page_size;
        p = end;
    }
    out->cpu_seconds = (double)ticks / ticks_per_second;
    return 0;
}

static int parse_io(const char *text, struct sample *out) {
    const char *read = strstr(text, "\nread_bytes: ");
    const char *write = strstr(text, "\nwrite_bytes: ");
    if (!read || !write) return -1;
    out->read_bytes = strtoll(read + 13, NULL, 10);
    out->write_bytes = strtoll(write + 14, NULL, 10);
    return 0;
}

static ssize_t read_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n >= 0) buffer[n] = 0;
    return n;
}

static char stat_path[64], statm_path[64], io_path[64], fd_path[64], task_path[64];
static int stat_fd = -1, statm_fd = -1, io_fd = -1, fd_dir_fd = -1, task_fd = -1;
static clockid_t cpu_clock;
static double start_seconds;

static int parse_statm(const char *text, struct sample *out) {
    char *end;
    long long size = strtoll(text, &end, 10);
    long long resident = strtoll(end, NULL, 10);
    if (size <= 0) return -1;
    out->rss_bytes = resident * page_size;
    return 0;
}

static int sample_ours(struct sample *out, int kept) {
    struct timespec cpu;
    if (clock_gettime(cpu_clock, &cpu) != 0) return -1;
    double now = clock_seconds(CLOCK_BOOTTIME);
    out->cpu_seconds = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
    out->uptime_seconds = now - start_seconds;
    ssize_t n = kept ? pread(statm_fd, buffer, sizeof buffer - 1, 0) : read_file(statm_path);
    if (n <= 0) return -1;
    buffer[n] = 0;
    if (parse_statm(buffer, out) != 0) return -1;
    struct stat info;
    if ((kept ? fstat(task_fd, &info) : stat(task_path, &info)) != 0) return -1;
    out->threads = (long long)info.st_nlink - 2;
    n = kept ? pread(io_fd, buffer, sizeof buffer - 1, 0) : read_file(io_path);
    if (n <= 0) return -1;
    buffer[n] = 0;
    if (parse_io(buffer, out) != 0) return -1;
    if ((kept ? fstat(fd_dir_fd, &info) : stat(fd_path, &info)) != 0) return -1;
    out->fds = info.st_size;
    return 0;
}

static int sample_naive(struct sample *out) {
    ssize_t n = read_file(stat_path);
    if (n <= 0 || parse_stat(buffer, n, out) != 0) return -1;
    if (read_file(io_path) <= 0 || parse_io(buffer, out) != 0) return -1;
    DIR *dir = opendir(fd_path);
    if (!dir) return -1;
    long long fds = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') fds++;
    }
    closedir(dir);
    out->fds = fds;
    return 0;
}

static int sample_kept(struct sample *out) {
    ssize_t n = pread(stat_fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0 || parse_stat(buffer, n, out) != 0) return -1;
    n = pread(io_fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0) return -1;
    buffer[n] = 0;
    if (parse_io(buffer, out) != 0) return -1;
    struct stat info;
    if (fstat(fd_dir_fd, &info) != 0) return -1;
    out->fds = info.st_size;
    return 0;
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PID COUNT naive|kept-stat|naive-ours|kept-ours\n", argv[0]);
        return 2;
    }
    int pid = atoi(argv[1]);
    int count = atoi(argv[2]);
    const char *mode = argv[3];
    if (pid <= 0 || count <= 0) {
        fprintf(stderr, "PID and COUNT must be positive integers\n");
        return 2;
    }
    ticks_per_second = (double)sysconf(_SC_CLK_TCK);
    page_size = sysconf(_SC_PAGESIZE);
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
    snprintf(statm_path, sizeof statm_path, "/proc/%d/statm", pid);
    snprintf(io_path, sizeof io_path, "/proc/%d/io", pid);
    snprintf(fd_path, sizeof fd_path, "/proc/%d/fd", pid);
    snprintf(task_path, sizeof task_path, "/proc/%d/task", pid);
    int kind = strcmp(mode, "naive") == 0 ? 0 : strcmp(mode, "kept-stat") == 0 ? 1
             : strcmp(mode, "naive-ours") == 0 ? 2 : strcmp(mode, "kept-ours") == 0 ? 3 : -1;
    if (kind < 0) {
        fprintf(stderr, "MODE must be naive, kept-stat, naive-ours or kept-ours, got %s\n", mode);
        return 2;
    }
    struct sample s;
    memset(&s, 0, sizeof s);
    if (kind == 1 || kind == 3) {
        stat_fd = open(stat_path, O_RDONLY | O_CLOEXEC);
        statm_fd = open(statm_path, O_RDONLY | O_CLOEXEC);
        io_fd = open(io_path, O_RDONLY | O_CLOEXEC);
        fd_dir_fd = open(fd_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        task_fd = open(task_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stat_fd < 0 || statm_fd < 0 || io_fd < 0 || fd_dir_fd < 0 || task_fd < 0) { perror("open"); return 1; }
    }
    if (kind >= 2) {  // start time once, CPU clock of the process
        ssize_t n = read_file(stat_path);
        if (n <= 0 || parse_stat(buffer, n, &s) != 0 || clock_getcpuclockid(pid, &cpu_clock) != 0) {
            fprintf(stderr, "cannot read pid %d\n", pid);
            return 1;
        }
        start_seconds = clock_seconds(CLOCK_BOOTTIME) - s.uptime_seconds;
    }
    long long *timings = malloc(sizeof(long long) * (size_t)count);
    long long checksum = 0;
    for (int i = -count / 10; i < count; i++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        int rc = kind == 0 ? sample_naive(&s) : kind == 1 ? sample_kept(&s) : sample_ours(&s, kind == 3);
        clock_gettime(CLOCK_MONOTONIC, &end);
        if (rc != 0) { fprintf(stderr, "sampling pid %d failed\n", pid); return 1; }
        checksum += s.threads + s.fds + s.rss_bytes;
        if (i >= 0) timings[i] = (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    }
    qsort(timings, (size_t)count, sizeof *timings, compare);
    printf("median_ns %lld\np90_ns %lld\nlast threads=%lld fds=%lld rss=%lld checksum=%lld\n", timings[count / 2],
           timings[count * 9 / 10], s.threads, s.fds, s.rss_bytes, checksum);
    free(timings);
    return 0;
}
