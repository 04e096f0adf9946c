/// The `# HELP` text of every metric family the manager exposes, in one place, so the same name always
/// gets the same text (the Prometheus registry refuses two texts for one name).
enum MetricHelp {
    /// The help text of a family; a generic sentence for a name not listed (never empty).
    static func text(of name: String) -> String {
        texts[name] ?? "Propeller metric \(name)."
    }

    static let texts: [String: String] = [
        // Tasks
        "propeller_task_info":
            "Running task (value 1): its id, name, proplet and its user labels as label_<key>.",
        "propeller_task_cpu_percent":
            "CPU used by the task's process between its last two samples, percent of one core (can exceed 100).",
        "propeller_task_cpu_seconds_total":
            "CPU seconds used by the task's process, integrated by the manager from cpu_percent between samples.",
        "propeller_task_memory_bytes": "Resident set size of the task's process in bytes.",
        "propeller_task_memory_percent": "Resident set size of the task's process as a percent of the host's RAM.",
        "propeller_task_disk_read_bytes":
            "Bytes the task's process read from storage since it started (latest sample, as a gauge).",
        "propeller_task_disk_write_bytes":
            "Bytes the task's process wrote to storage since it started (latest sample, as a gauge).",
        "propeller_task_disk_read_bytes_total": "Bytes the task's process read from storage since it started.",
        "propeller_task_disk_write_bytes_total": "Bytes the task's process wrote to storage since it started.",
        "propeller_task_threads": "OS threads of the task's process.",
        "propeller_task_file_descriptors": "Open file descriptors of the task's process.",
        "propeller_task_uptime_seconds": "Seconds since the task's process started.",
        "propeller_task_last_sample_timestamp_seconds": "Unix time of the task's newest stored sample.",
        // Proplets
        "propeller_proplet_alive": "1 while the proplet sends heartbeats, 0 once it is considered gone.",
        "propeller_proplet_cpu_percent": "CPU used by the proplet process itself, percent of one core.",
        "propeller_proplet_memory_bytes": "Resident set size of the proplet process in bytes.",
        "propeller_proplet_host_cpu_percent": "CPU busy on the proplet's host, percent of all cores.",
        "propeller_proplet_host_memory_used_bytes": "Memory in use on the proplet's host in bytes.",
        "propeller_proplet_host_memory_total_bytes": "Total memory of the proplet's host in bytes.",
        "propeller_proplet_host_load1": "1-minute load average of the proplet's host.",
        "propeller_proplet_running_tasks": "Tasks the proplet runs now.",
        // Ingestion
        "propeller_ingest_messages_received_total": "MQTT messages received from proplets, by topic kind.",
        "propeller_ingest_samples_stored_total": "Samples newly stored, by kind (task or proplet).",
        "propeller_ingest_messages_dropped_total": "MQTT messages dropped without effect, by reason.",
        "propeller_samples_lost_total": "Sample sequence numbers the manager can no longer receive, per proplet.",
        // HTTP
        "propeller_http_requests_total": "REST API requests served, by method, route and status.",
        "propeller_http_request_duration_seconds": "REST API request latency in seconds, by method and route.",
        // Build and process
        "propeller_build_info": "Build of this manager (value 1), labelled with its version.",
        "process_cpu_seconds_total": "Total user and system CPU time of the manager process in seconds.",
        "process_resident_memory_bytes": "Resident memory size of the manager process in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size of the manager process in bytes.",
        "process_open_fds": "Open file descriptors of the manager process.",
        "process_max_fds": "Maximum number of open file descriptors of the manager process.",
        "process_start_time_seconds": "Start time of the manager process since the Unix epoch in seconds.",
        "process_threads": "OS threads of the manager process.",
    ]
}
