// Sampling of processes and the host, and the history ring. See ProcessSampler, HostSampler, MetricsHistory.
