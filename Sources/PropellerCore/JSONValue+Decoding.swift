extension JSONValue {
    /// This value decoded as one of the typed bodies (`WasmTask`, `TaskPage`, …), strictly as the wire
    /// format: reading an API response through its type instead of looking fields up by name.
    public func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try WireCoding.decode(type, from: try WireCoding.encode(self))
    }
}
