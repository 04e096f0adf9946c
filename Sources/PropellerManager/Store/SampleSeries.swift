import PropellerCore

/// A sample that belongs to a time series at one timestamp.
protocol TimestampedSample: Sendable {
    var timestamp: Timestamp { get }
}

extension TaskSample: TimestampedSample {}
extension PropletSample: TimestampedSample {}

/// One series of samples kept sorted by timestamp, at most one per timestamp (`InMemoryStore`).
struct SampleSeries<Sample: TimestampedSample>: Sendable {
    private(set) var samples: [Sample] = []

    var isEmpty: Bool { samples.isEmpty }
    var count: Int { samples.count }

    /// Inserts a sample in timestamp order; returns false (and keeps the stored one) when a sample with
    /// the same timestamp exists. Appending in time order is O(1).
    mutating func insert(_ sample: Sample) -> Bool {
        if let last = samples.last, last.timestamp < sample.timestamp {
            samples.append(sample)
            return true
        }
        let index = firstIndex(notBefore: sample.timestamp)
        if index < samples.count, samples[index].timestamp == sample.timestamp { return false }
        samples.insert(sample, at: index)
        return true
    }

    /// The samples in an inclusive range, oldest first.
    func slice(_ range: TimeRange) -> ArraySlice<Sample> {
        let lower = range.from.map(firstIndex(notBefore:)) ?? 0
        let upper = range.to.map(firstIndex(after:)) ?? samples.count
        return lower < upper ? samples[lower..<upper] : []
    }

    /// A page of the samples in a range, in the requested order.
    func page(_ range: TimeRange, order: SampleOrder, page: Page) -> PageResult<Sample> {
        let matching = slice(range)
        let (limit, offset) = (min(max(page.limit, 0), 1000), max(page.offset, 0))
        guard offset < matching.count, limit > 0 else { return PageResult(items: [], total: matching.count) }
        let items: [Sample]
        switch order {
        case .ascending:
            let start = matching.startIndex + offset
            items = Array(matching[start..<min(start + limit, matching.endIndex)])
        case .descending:
            let end = matching.endIndex - offset
            items = Array(matching[max(end - limit, matching.startIndex)..<end].reversed())
        }
        return PageResult(items: items, total: matching.count)
    }

    /// Removes samples older than `cutoff` (when given) and all but the newest `cap`; returns how many.
    mutating func trim(cap: Int, olderThan cutoff: Int64?) -> Int {
        let before = samples.count
        if let cutoff {
            samples.removeFirst(firstIndex(notBefore: Timestamp(microsecondsSinceEpoch: cutoff)))
        }
        if samples.count > cap { samples.removeFirst(samples.count - cap) }
        return before - samples.count
    }

    /// Index of the first sample at or after `time`.
    private func firstIndex(notBefore time: Timestamp) -> Int {
        var low = 0
        var high = samples.count
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].timestamp < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Index of the first sample strictly after `time`.
    private func firstIndex(after time: Timestamp) -> Int {
        var low = 0
        var high = samples.count
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].timestamp <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
