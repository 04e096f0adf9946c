extension JSONValue {
    /// The value at a key when this is an object; nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The elements when this is an array; empty otherwise.
    public var elements: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    /// The text when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
