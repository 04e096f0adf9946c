extension MonitoringProfile {
    /// Resolves a task's `monitoring_profile` as given in a request: absent or null → automatic
    /// selection; a string → a built-in by name; an object → its keys override the automatic profile
    /// (a full object therefore replaces it entirely). The result is validated.
    ///
    /// - Throws: `ContractError` naming the field for an unknown name, an unknown key, a wrong type,
    ///   or a value out of range.
    public static func resolve(_ requested: JSONValue?, daemon: Bool) throws(ContractError) -> MonitoringProfile {
        let base = automatic(daemon: daemon)
        switch requested {
        case nil, .null?:
            return base
        case .string(let name)?:
            guard let profile = named(name) else {
                throw .unknownProfile(name: name, accepted: builtIns.map(\.name))
            }
            return profile
        case .object(let overrides)?:
            return try base.applying(overrides: overrides)
        case let other?:
            throw .invalidValue(
                field: "monitoring_profile",
                expected: "a profile name (\(builtIns.map(\.name).joined(separator: ", "))) or an object",
                got: other.description
            )
        }
    }

    /// This profile with the given keys overridden, validated.
    public func applying(overrides: [String: JSONValue]) throws(ContractError) -> MonitoringProfile {
        var profile = self
        for key in overrides.keys.sorted() {
            let value = overrides[key]!
            guard let codingKey = CodingKeys(rawValue: key) else {
                throw .unknownKey(field: "monitoring_profile.\(key)", accepted: Self.keys)
            }
            switch codingKey {
            case .enabled: profile.enabled = try Self.bool(value, key)
            case .interval: profile.interval = try Self.integer(value, key, in: Self.intervalRange)
            case .collectCPU: profile.collectCPU = try Self.bool(value, key)
            case .collectMemory: profile.collectMemory = try Self.bool(value, key)
            case .collectDiskIO: profile.collectDiskIO = try Self.bool(value, key)
            case .collectThreads: profile.collectThreads = try Self.bool(value, key)
            case .collectFileDescriptors: profile.collectFileDescriptors = try Self.bool(value, key)
            case .exportToMQTT: profile.exportToMQTT = try Self.bool(value, key)
            case .retainHistory: profile.retainHistory = try Self.bool(value, key)
            case .historySize: profile.historySize = try Self.integer(value, key, in: Self.historySizeRange)
            }
        }
        try profile.validate()
        return profile
    }

    /// Checks every constraint of SPEC §3.
    public func validate() throws(ContractError) {
        guard Self.intervalRange.contains(interval) else {
            throw .invalidValue(
                field: "monitoring_profile.interval",
                expected: "an integer from 1 to 120",
                got: String(interval)
            )
        }
        guard Self.historySizeRange.contains(historySize) else {
            throw .invalidValue(
                field: "monitoring_profile.history_size",
                expected: "an integer from 0 to 10000",
                got: String(historySize)
            )
        }
        if retainHistory && historySize < 1 {
            throw .invalidValue(
                field: "monitoring_profile.history_size",
                expected: "at least 1 when retain_history is true",
                got: String(historySize)
            )
        }
    }

    private static func bool(_ value: JSONValue, _ key: String) throws(ContractError) -> Bool {
        guard case .bool(let flag) = value else {
            throw .invalidValue(field: "monitoring_profile.\(key)", expected: "true or false", got: value.description)
        }
        return flag
    }

    private static func integer(
        _ value: JSONValue,
        _ key: String,
        in range: ClosedRange<Int>
    ) throws(ContractError) -> Int {
        let expected = "an integer from \(range.lowerBound) to \(range.upperBound)"
        guard case .integer(let number) = value else {
            throw .invalidValue(field: "monitoring_profile.\(key)", expected: expected, got: value.description)
        }
        guard number >= Int64(range.lowerBound), number <= Int64(range.upperBound) else {
            throw .invalidValue(field: "monitoring_profile.\(key)", expected: expected, got: String(number))
        }
        return Int(number)
    }
}
