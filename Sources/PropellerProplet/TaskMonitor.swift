import PropellerCore
import PropellerMonitoring

/// The monitor of one task's process: samples it once per profile interval and once at exit, keeps
/// its history window and lifetime aggregate, and publishes every sample when the profile exports.
///
/// The CPU baseline is read when the monitor is created, right after spawn, so the first periodic
/// sample is exact. The final sample is computed from `wait4`'s rusage of the reaped child (exact
/// lifetime CPU time and I/O); see `finalSample(exit:)` for the figures an exited process no longer has.
package actor TaskMonitor {
    /// The task monitored.
    package let taskID: String
    /// The proplet that runs it.
    package let propletID: String
    /// The task's resolved profile.
    package let profile: MonitoringProfile
    private let sampler: any ProcessReading
    private var history: MetricsHistory
    private var lifetime = LifetimeAggregate()
    private var lastLive: ProcessMetrics?
    /// The last early reading (`probe`) of a process that keeps no final-sample handshake, and the
    /// largest memory seen by them: the final sample's memory, threads and fds when no periodic sample
    /// was taken.
    private var probed: (metrics: ProcessMetrics, peakMemory: Int64)?
    /// The CPU baseline before the first probe (the spawn's): the final sample's CPU% of a task that was
    /// only probed covers its whole life.
    private var probeBaseline: (cpu: Double, at: ContinuousClock.Instant)?
    /// The reading taken after the task's work ended (`captureFinalReading`), with the CPU baseline
    /// of the last sample before it.
    private var finalReading: (metrics: ProcessMetrics, baselineCPU: Double, baselineAt: ContinuousClock.Instant)?
    private var lastReadingAt: ContinuousClock.Instant
    private let spawnedAt: ContinuousClock.Instant
    private let totalMemoryBytes: Int64
    private var finished = false

    /// Binds a monitor to a freshly spawned process and reads its CPU baseline.
    ///
    /// - Throws: whatever `makeReader` throws (the process is gone, `/proc` unreadable).
    package init(
        taskID: String,
        propletID: String,
        profile: MonitoringProfile,
        pid: Int32,
        spawnedAt: ContinuousClock.Instant,
        totalMemoryBytes: Int64,
        makeReader: ProcessReaderFactory
    ) throws {
        self.taskID = taskID
        self.propletID = propletID
        self.profile = profile
        self.sampler = try makeReader(pid, profile)
        self.lastReadingAt = .now
        self.spawnedAt = spawnedAt
        self.totalMemoryBytes = totalMemoryBytes
        self.history = MetricsHistory(capacity: profile.retainHistory ? profile.historySize : 0)
    }

    /// Samples once per `profile.interval` on `clock` until cancelled, handing each sample to
    /// `publish` (the caller decides whether it goes out). Deadlines are fixed multiples of the
    /// interval from the start, so samples do not drift; missed deadlines are skipped.
    package func runPeriodic<C: Clock>(
        clock: C,
        publish: @Sendable (TaskSample) async -> Void
    ) async where C.Duration == Duration {
        let interval = Duration.seconds(profile.interval)
        var deadline = clock.now.advanced(by: interval)
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
            if let sample = sampleLive() { await publish(sample) }
            deadline = deadline.advanced(by: interval)
            let now = clock.now
            while deadline <= now { deadline = deadline.advanced(by: interval) }
        }
    }

    /// Takes one sample of the live process; nil when it has exited meanwhile (the final sample
    /// then covers this interval) or after `finalSample`.
    package func sampleLive() -> TaskSample? {
        guard !finished, finalReading == nil, let reading = try? sampler.sample() else { return nil }
        lastReadingAt = .now
        lastLive = reading
        return record(reading.filtered(by: profile))
    }

    /// Reads the live process without recording a sample, for a process that keeps no final-sample
    /// handshake (the Wasmtime CLI run directly): a task shorter than one interval then still has
    /// threads and fds measured on its live process. Returns false once a periodic sample exists or the
    /// process is gone (probing may stop).
    package func probe() -> Bool {
        guard !finished, finalReading == nil, lastLive == nil else { return false }
        let baseline = (cpu: sampler.lastCPUSeconds, at: lastReadingAt)
        guard let reading = try? sampler.sample() else { return false }
        if probeBaseline == nil { probeBaseline = baseline }
        let peak = max(probed?.peakMemory ?? 0, reading.memoryBytes ?? 0)
        probed = (reading, peak)
        return true
    }

    /// Reads the live process once more after its work has ended (the runner reported its outcome and
    /// waits, or a stop is about to signal it): memory, threads and fds of the final sample come from
    /// this reading. Periodic sampling ends here. Does nothing when the process is already gone.
    package func captureFinalReading() {
        guard !finished, finalReading == nil else { return }
        let baselineCPU = sampler.lastCPUSeconds
        let baselineAt = lastReadingAt
        guard let reading = try? sampler.sample() else { return }
        finalReading = (reading, baselineCPU, baselineAt)
    }

    /// The final sample, from the reaped child's rusage, and the lifetime aggregate including it.
    ///
    /// - CPU%: CPU seconds since the previous reading (rusage total − the last reading's) over the
    ///   wall time from that reading to the exit.
    /// - Disk bytes: rusage `ru_inblock`/`ru_oublock` × 512 (the kernel's `read_bytes`/`write_bytes`
    ///   counters, rounded to 512-byte blocks).
    /// - Uptime: whole seconds from spawn to exit.
    /// - Memory, threads, fds: an exited process has none, so these come from the reading taken after
    ///   its work ended (`captureFinalReading`), else from the last live reading. When there was none
    ///   (a runner that died before reporting, shorter than one interval), `memory_bytes` is the peak
    ///   RSS (`ru_maxrss`) and threads/fds are omitted, because nothing measured them.
    package func finalSample(exit: ChildProcess.Exit) -> (sample: TaskSample, final: FinalMetrics) {
        finished = true
        let early = lastLive == nil ? probeBaseline : nil
        let baselineAt = finalReading?.baselineAt ?? early?.at ?? lastReadingAt
        let baselineCPU = finalReading?.baselineCPU ?? early?.cpu ?? sampler.lastCPUSeconds
        let elapsed = Self.seconds(exit.exitedAt - baselineAt)
        let used = max(0, exit.cpuSeconds - baselineCPU)
        var metrics = ProcessMetrics(
            cpuPercent: elapsed > 0 ? used / elapsed * 100 : 0,
            diskReadBytes: exit.diskReadBytes,
            diskWriteBytes: exit.diskWriteBytes,
            uptimeSeconds: Int64(max(0, Self.seconds(exit.exitedAt - spawnedAt)).rounded(.down))
        )
        let live = finalReading?.metrics ?? lastLive ?? probed?.metrics
        // Memory: the larger of the reading after the work ended and the last periodic reading (or the
        // larger of the early readings' peak and the peak RSS): a task that failed at its memory limit
        // has often freed its memory by then, and early readings may miss a fast growth.
        let earlier = lastLive?.memoryBytes ?? max(probed?.peakMemory ?? 0, exit.maxRSSBytes)
        let memory = max(finalReading?.metrics.memoryBytes ?? 0, earlier)
        metrics.memoryBytes = memory
        metrics.memoryPercent = totalMemoryBytes > 0 ? Double(memory) / Double(totalMemoryBytes) * 100 : 0
        metrics.threadCount = live?.threadCount
        metrics.fileDescriptorCount = live?.fileDescriptorCount
        let sample = record(metrics.filtered(by: profile))
        let final = FinalMetrics(metrics: sample.metrics, aggregated: lifetime.aggregate, timestamp: sample.timestamp)
        return (sample, final)
    }

    private func record(_ metrics: ProcessMetrics) -> TaskSample {
        lifetime.add(metrics)
        var aggregated: AggregatedMetrics?
        if profile.retainHistory {
            history.append(metrics)
            aggregated = history.aggregate()
        }
        return TaskSample(
            taskID: taskID,
            propletID: propletID,
            metrics: metrics,
            aggregated: aggregated,
            timestamp: .now()
        )
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
