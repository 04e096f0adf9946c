import PropellerCore

extension ManagerMetrics {
    /// The Prometheus text exposition (format 0.0.4) of every series: build info, the manager process,
    /// tasks, proplets, then the registry's counters and histogram.
    public func exposition() -> [UInt8] {
        var text = PrometheusText()
        text.family("propeller_build_info", .gauge, samples: [([("version", PropellerVersion.current)], 1)])
        appendProcess(to: &text)
        appendTasks(to: &text)
        appendProplets(to: &text)
        text.append(bytes: registry.emitToBuffer())
        return text.bytes
    }

    private func appendProcess(to text: inout PrometheusText) {
        guard let process = ProcessSelfMetrics.read() else { return }
        text.family("process_cpu_seconds_total", .counter, samples: [([], process.cpuSeconds)])
        text.family("process_resident_memory_bytes", .gauge, samples: [([], process.residentBytes)])
        text.family("process_virtual_memory_bytes", .gauge, samples: [([], process.virtualBytes)])
        text.family("process_open_fds", .gauge, samples: [([], process.openFDs)])
        if let max = process.maxFDs { text.family("process_max_fds", .gauge, samples: [([], max)]) }
        text.family("process_start_time_seconds", .gauge, samples: [([], process.startTimeSeconds)])
        text.family("process_threads", .gauge, samples: [([], process.threads)])
    }

    private func appendTasks(to text: inout PrometheusText) {
        let all = tasks.withLock { $0 }.sorted { $0.key < $1.key }
        guard !all.isEmpty else { return }
        typealias Extract = (TaskSeries) -> Double?
        let families: [(String, PrometheusText.Kind, Extract)] = [
            ("propeller_task_cpu_percent", .gauge, { $0.latest.metrics.cpuPercent }),
            (
                "propeller_task_cpu_seconds_total", .counter,
                { $0.latest.metrics.cpuPercent == nil ? nil : $0.cpuSeconds }
            ),
            ("propeller_task_memory_bytes", .gauge, { $0.latest.metrics.memoryBytes.map(Double.init) }),
            ("propeller_task_memory_percent", .gauge, { $0.latest.metrics.memoryPercent }),
            ("propeller_task_disk_read_bytes", .gauge, { $0.latest.metrics.diskReadBytes.map(Double.init) }),
            ("propeller_task_disk_read_bytes_total", .counter, { $0.latest.metrics.diskReadBytes.map(Double.init) }),
            ("propeller_task_disk_write_bytes", .gauge, { $0.latest.metrics.diskWriteBytes.map(Double.init) }),
            (
                "propeller_task_disk_write_bytes_total", .counter,
                { $0.latest.metrics.diskWriteBytes.map(Double.init) }
            ),
            ("propeller_task_threads", .gauge, { $0.latest.metrics.threadCount.map(Double.init) }),
            ("propeller_task_file_descriptors", .gauge, { $0.latest.metrics.fileDescriptorCount.map(Double.init) }),
            ("propeller_task_uptime_seconds", .gauge, { $0.latest.metrics.uptimeSeconds.map(Double.init) }),
            ("propeller_task_last_sample_timestamp_seconds", .gauge, { $0.latest.timestamp.secondsSinceEpoch }),
        ]
        let labelled = all.map { (id, series) in (Self.taskLabels(id: id, series), series) }
        text.family(
            "propeller_task_info",
            .gauge,
            samples: labelled.map { labels, series in
                let extra = series.labels.sorted { $0.key < $1.key }.map { ("label_" + $0.key, Self.label($0.value)) }
                return (labels + extra, 1)
            }
        )
        for (name, kind, extract) in families {
            text.family(
                name,
                kind,
                samples: labelled.compactMap { labels, series in extract(series).map { (labels, $0) } }
            )
        }
    }

    private func appendProplets(to text: inout PrometheusText) {
        let all = proplets.withLock { $0 }.sorted { $0.key < $1.key }
        guard !all.isEmpty else { return }
        typealias Extract = (PropletSeries) -> Double?
        let families: [(String, Extract)] = [
            ("propeller_proplet_alive", { $0.alive.map { $0 ? 1 : 0 } }),
            ("propeller_proplet_cpu_percent", { $0.latest?.metrics.cpuPercent }),
            ("propeller_proplet_memory_bytes", { $0.latest?.metrics.memoryBytes.map(Double.init) }),
            ("propeller_proplet_host_cpu_percent", { $0.latest?.host.cpuPercent }),
            ("propeller_proplet_host_memory_used_bytes", { $0.latest.map { Double($0.host.memoryUsedBytes) } }),
            ("propeller_proplet_host_memory_total_bytes", { $0.latest.map { Double($0.host.memoryTotalBytes) } }),
            ("propeller_proplet_host_load1", { $0.latest?.host.load1m }),
            ("propeller_proplet_running_tasks", { $0.latest.map { Double($0.runningTasks) } }),
        ]
        for (name, extract) in families {
            text.family(
                name,
                .gauge,
                samples: all.compactMap { id, series in extract(series).map { ([("proplet_id", Self.label(id))], $0) } }
            )
        }
    }

    private static func taskLabels(id: String, _ series: TaskSeries) -> [(String, String)] {
        [("task_id", id), ("task_name", label(series.name)), ("proplet_id", label(series.propletID))]
    }
}
