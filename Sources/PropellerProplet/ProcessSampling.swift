import PropellerCore
import PropellerMonitoring

/// Reads one process's metrics, one sample at a time. `ProcessSampler` is the real one; unit tests
/// script their own readings.
package protocol ProcessSampling: AnyObject {
    /// One sample; CPU% covers the time since the previous reading (the first: since creation).
    func sample() throws -> ProcessMetrics
    /// User + system CPU seconds of the process at the last successful reading.
    var lastCPUSeconds: Double { get }
}

extension ProcessSampler: ProcessSampling {}

/// Creates the sampler of a task's process: the pid and the profile whose metrics to read.
package typealias ProcessSamplerFactory = @Sendable (Int32, MonitoringProfile) throws -> any ProcessSampling

extension ProcessSampler {
    /// The factory of real samplers (`/proc` on Linux).
    package static let factory: ProcessSamplerFactory = { pid, profile in
        try ProcessSampler(pid: pid, selection: MetricSelection(profile: profile))
    }
}
