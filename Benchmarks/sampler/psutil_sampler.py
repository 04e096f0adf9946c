"""psutil comparison for Benchmarks/sampler: one full sample = the same 8 metrics in oneshot().

usage: python psutil_sampler.py PID COUNT  → prints "median_ns N" and "p90_ns N".
"""

import sys
import time

import psutil


def full_sample(process):
    with process.oneshot():
        return (
            process.cpu_percent(interval=None),
            process.memory_info().rss,
            process.memory_percent(),
            process.io_counters(),
            process.create_time(),
            process.num_threads(),
            process.num_fds(),
        )


def main():
    pid, count = int(sys.argv[1]), int(sys.argv[2])
    process = psutil.Process(pid)
    timings = []
    for index in range(-count // 10, count):
        start = time.perf_counter_ns()
        full_sample(process)
        elapsed = time.perf_counter_ns() - start
        if index >= 0:
            timings.append(elapsed)
    timings.sort()
    print(f"median_ns {timings[count // 2]}")
    print(f"p90_ns {timings[count * 9 // 10]}")


if __name__ == "__main__":
    main()
