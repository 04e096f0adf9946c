#if os(Linux)
import Foundation
import PropellerTestSupport

/// A small C program the sampler tests start and drive over stdin/stdout, one command per line:
///
/// - `cpu` → its own `CLOCK_PROCESS_CPUTIME_ID` in nanoseconds
/// - `spin N` → starts N busy-looping threads (at nice −10 when permitted) → `ok`
/// - `park N` → starts N threads that block forever → `ok`
/// - `open N` → opens `/dev/null` N times → `ok`
/// - `alloc MIB` → allocates and touches MIB MiB → `ok`
/// - `write PATH MIB` → writes MIB MiB to PATH and fsyncs it → `ok`
/// - `exit` → exits with status 0 (as does end of input, so a probe never outlives its test)
enum ProbeProgram {
    static let source = #"""
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/resource.h>
        #include <time.h>
        #include <unistd.h>

        static volatile unsigned long sink;
        static char *volatile held;

        static void *spin(void *arg) { (void)arg; for (;;) sink++; return NULL; }
        static void *park(void *arg) { (void)arg; for (;;) pause(); return NULL; }

        static int start_threads(int count, void *(*body)(void *)) {
            for (int i = 0; i < count; i++) {
                pthread_t thread;
                if (pthread_create(&thread, NULL, body, NULL) != 0) return -1;
                pthread_detach(thread);
            }
            return 0;
        }

        // Best effort, needs privilege: lets the spinners get most of a core even when the machine is
        // shared by many busy sessions. With autogroup scheduling, nice values only weigh within a
        // session, so the probe takes its own session and lowers that session's nice value too.
        static void raise_priority(void) {
            if (setsid() >= 0) {
                int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                    (void)write(fd, "-10", 3);
                    close(fd);
                }
            }
            (void)setpriority(PRIO_PROCESS, 0, -10);
        }

        static int write_file(const char *path, int mib) {
            static char block[1 << 20];
            memset(block, 'x', sizeof block);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) return -1;
            for (int i = 0; i < mib; i++) {
                size_t done = 0;
                while (done < sizeof block) {
                    ssize_t n = write(fd, block + done, sizeof block - done);
                    if (n <= 0) { close(fd); return -1; }
                    done += (size_t)n;
                }
            }
            int rc = fsync(fd);
            close(fd);
            return rc;
        }

        int main(void) {
            char line[4096], path[4000];
            int n;
            setvbuf(stdout, NULL, _IOLBF, 0);
            while (fgets(line, sizeof line, stdin)) {
                if (strncmp(line, "cpu", 3) == 0) {
                    struct timespec ts;
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                    printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
                } else if (sscanf(line, "spin %d", &n) == 1) {
                    raise_priority();
                    puts(start_threads(n, spin) == 0 ? "ok" : "error");
                } else if (sscanf(line, "park %d", &n) == 1) {
                    puts(start_threads(n, park) == 0 ? "ok" : "error");
                } else if (sscanf(line, "open %d", &n) == 1) {
                    int failed = 0;
                    for (int i = 0; i < n; i++) failed |= open("/dev/null", O_RDONLY) < 0;
                    puts(failed ? "error" : "ok");
                } else if (sscanf(line, "alloc %d", &n) == 1) {
                    size_t size = (size_t)n << 20;
                    char *block = malloc(size);
                    if (block) memset(block, 1, size);
                    held = block;
                    puts(block ? "ok" : "error");
                } else if (sscanf(line, "write %3999s %d", path, &n) == 2) {
                    puts(write_file(path, n) == 0 ? "ok" : "error");
                } else if (strncmp(line, "exit", 4) == 0) {
                    return 0;
                } else {
                    puts("error");
                }
            }
            return 0;
        }
        """#

    /// Compiles the probe into a temporary directory.
    static func compile() async throws -> CProgram {
        try await CProgram.compile(source, name: "probe")
    }
}

/// A running probe; `command` fails the test unless the probe answers `ok`.
struct Probe {
    let process: ChildProcess

    /// Starts a probe from a compiled program.
    init(_ program: CProgram) async throws {
        process = try await ChildProcess(executable: program.path)
    }

    /// The probe's pid.
    var pid: Int32 { process.pid }

    /// Sends a command that answers `ok`.
    func command(_ line: String) throws {
        let reply = try process.request(line)
        guard reply == "ok" else { throw ProbeError(command: line, reply: reply) }
    }

    /// The probe's own CPU time (`CLOCK_PROCESS_CPUTIME_ID`), in seconds.
    func cpuSeconds() throws -> Double {
        let reply = try process.request("cpu")
        guard let nanoseconds = Int64(reply) else { throw ProbeError(command: "cpu", reply: reply) }
        return Double(nanoseconds) / 1_000_000_000
    }
}

/// The probe answered something else than expected.
struct ProbeError: Error, CustomStringConvertible {
    let command: String
    let reply: String
    var description: String { "probe answered \"\(reply)\" to \"\(command)\"" }
}
#endif
