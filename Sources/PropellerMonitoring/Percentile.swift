/// Percentiles for the manager's `p50_cpu_usage`, `p95_cpu_usage` and `p95_memory_usage`.
///
/// Linear interpolation between the two nearest ranks (the "R-7" / NumPy default / spreadsheet
/// `PERCENTILE.INC` definition): rank = p/100 × (n − 1) over the values sorted ascending.
public enum Percentile {
    /// The `p`-th percentile (`p` in 0…100) of `sorted`, which must be sorted ascending.
    ///
    /// Returns nil for an empty array or a `p` outside 0…100 (including NaN).
    public static func value(_ p: Double, of sorted: [Double]) -> Double? {
        guard !sorted.isEmpty, p >= 0, p <= 100 else { return nil }
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
