import Hummingbird
import PropellerCore

/// Strict parsing of query strings: every parameter must be one the endpoint accepts, given once,
/// with a valid value; anything else is a 400 naming the parameter.
struct QueryParameters {
    private var values: [String: String] = [:]

    /// Collects the parameters of a request, rejecting unknown and repeated ones.
    init(_ request: Request, accepted: [String]) throws(ManagerError) {
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard accepted.contains(name) else {
                let list = accepted.isEmpty ? "none" : accepted.joined(separator: ", ")
                throw .badRequest("unknown query parameter \"\(name.prefix(64))\"; accepted: \(list)")
            }
            guard values[name] == nil else { throw .badRequest("query parameter \(name) is given more than once") }
            values[name] = String(value)
        }
    }

    /// `offset` (≥ 0, default 0) and `limit` (1…1000, default 100).
    func page() throws(ManagerError) -> Page {
        let offset = try integer("offset", in: 0...Int(Int32.max), default: 0)
        let limit = try integer("limit", in: 1...1000, default: 100)
        return Page(offset: offset, limit: limit)
    }

    /// The optional `state` filter.
    func state() throws(ManagerError) -> TaskState? {
        guard let text = values["state"] else { return nil }
        guard let state = TaskState(rawValue: text) else {
            let accepted = TaskState.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badRequest("state must be one of \(accepted), got \"\(text.prefix(64))\"")
        }
        return state
    }

    /// `from` and `to` (RFC 3339, inclusive); `from` must not be after `to`.
    func range() throws(ManagerError) -> TimeRange {
        let from = try timestamp("from")
        let to = try timestamp("to")
        if let from, let to, from > to {
            throw .badRequest("from (\(from.rfc3339)) must not be after to (\(to.rfc3339))")
        }
        return TimeRange(from: from, to: to)
    }

    /// `order`: `asc` (default) or `desc`.
    func order() throws(ManagerError) -> SampleOrder {
        guard let text = values["order"] else { return .ascending }
        guard let order = SampleOrder(rawValue: text) else {
            throw .badRequest("order must be asc or desc, got \"\(text.prefix(64))\"")
        }
        return order
    }

    private func integer(_ name: String, in range: ClosedRange<Int>, default value: Int) throws(ManagerError) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw .badRequest(
                "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text.prefix(64))\""
            )
        }
        return number
    }

    private func timestamp(_ name: String) throws(ManagerError) -> Timestamp? {
        guard let text = values[name] else { return nil }
        guard let timestamp = Timestamp(rfc3339: text) else {
            throw .badRequest(
                "\(name) must be an RFC 3339 timestamp like 2025-01-15T10:35:22.123456Z, got \"\(text.prefix(64))\""
            )
        }
        return timestamp
    }
}
