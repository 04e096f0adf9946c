import PropellerCore
import Synchronization

/// Where the manager reads wall-clock time: the system clock in production, a settable one in tests.
public protocol TimeSource: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemTimeSource: TimeSource {
    /// The system clock.
    public init() {}

    /// `CLOCK_REALTIME`.
    public func now() -> Timestamp { .now() }
}

/// A clock that moves only when told to, for instant unit tests.
public final class ManualTimeSource: TimeSource {
    private let current: Mutex<Timestamp>

    /// Starts at the given time.
    public init(_ start: Timestamp) { current = Mutex(start) }

    /// The time the clock was set or advanced to.
    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward by a number of seconds.
    public func advance(seconds: Double) { current.withLock { $0 = $0.adding(seconds: seconds) } }
}
