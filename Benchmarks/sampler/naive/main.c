// The comparison samplers of Benchmarks/sampler, in C: every full sample reads the same figures as
// ProcessSampler (utime+stime, num_threads, starttime and rss from /proc/PID/stat; read_bytes and
// write_bytes from /proc/PID/io; the open fd count from /proc/PID/fd).
//
//   naive-sampler PID COUNT MODE
//     naive    open/read/close stat and io each time, count the fd directory's entries (readdir)
//     statsize open/read/close stat and io each time, fd count from stat("/proc/PID/fd").st_size
//     kept     files opened once, re-read with pread at offset 0, fstat of the fd directory
//              (the system-call floor; what ProcessSampler does)
//
// Prints "median_ns N" and "p90_ns N" over COUNT timed samples (after a short warm-up).
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

static char stat_path[64], io_path[64], fd_path[64];
static int stat_fd = -1, io_fd = -1, fd_dir_fd = -1;

static int sample_open_close(struct sample *out, int count_entries) {
    ssize_t n = read_file(stat_path);
    if (n <= 0 || parse_stat(buffer, n, out) != 0) return -1;
    if (read_file(io_path) <= 0 || parse_io(buffer, out) != 0) return -1;
    if (count_entries) {
        DIR *dir = opendir(fd_path);
        if (!dir) return -1;
        long long fds = 0;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] != '.') fds++;
        }
        closedir(dir);
        out->fds = fds;
    } else {
        struct stat info;
        if (stat(fd_path, &info) != 0) return -1;
        out->fds = info.st_size;
    }
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
        fprintf(stderr, "usage: %s PID COUNT naive|statsize|kept\n", argv[0]);
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
    snprintf(io_path, sizeof io_path, "/proc/%d/io", pid);
    snprintf(fd_path, sizeof fd_path, "/proc/%d/fd", pid);
    int kept = strcmp(mode, "kept") == 0;
    int entries = strcmp(mode, "naive") == 0;
    if (!kept && !entries && strcmp(mode, "statsize") != 0) {
        fprintf(stderr, "MODE must be naive, statsize or kept, got %s\n", mode);
        return 2;
    }
    if (kept) {
        stat_fd = open(stat_path, O_RDONLY | O_CLOEXEC);
        io_fd = open(io_path, O_RDONLY | O_CLOEXEC);
        fd_dir_fd = open(fd_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stat_fd < 0 || io_fd < 0 || fd_dir_fd < 0) { perror("open"); return 1; }
    }
    long long *timings = malloc(sizeof(long long) * (size_t)count);
    struct sample s;
    long long checksum = 0;
    for (int i = -count / 10; i < count; i++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        int rc = kept ? sample_kept(&s) : sample_open_close(&s, entries);
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
