import PostgresNIO

/// Many rows as one array per column, for `INSERT … SELECT * FROM unnest($1::text[], $2::int8[], …)`.
///
/// Why: a multi-row `VALUES ($1, …, $21000)` statement makes the server parse and plan 21,000 parameters
/// per 1,000 samples and the client encode each one; `unnest` of one array literal per column is one
/// small statement whatever the batch size (one parameter per column), so a batch of any size is one
/// statement in one round trip. Each array is sent as PostgreSQL's text array literal (`{1.5,NULL,"id"}`),
/// so NULL (a metric the profile did not collect) needs no second array, and the cast in the statement
/// gives the server the element type.
struct PostgresColumnArrays {
    private var literals: [String]
    /// Each column's SQL element type, learnt from the first row's appends.
    private(set) var types: [String]
    private var column = 0
    private(set) var rows = 0

    init(columns: Int) {
        literals = Array(repeating: "{", count: columns)
        types = Array(repeating: "", count: columns)
    }

    /// Appends a text value (quoted; `"` and `\` escaped) or NULL to the current column.
    mutating func append(_ value: String?) {
        guard let value else { return appendLiteral("NULL", type: "text") }
        var quoted = "\""
        quoted.reserveCapacity(value.utf8.count + 2)
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(character)
        }
        quoted += "\""
        appendLiteral(quoted, type: "text")
    }

    /// Appends a 64-bit integer or NULL to the current column.
    mutating func append(_ value: Int64?) {
        appendLiteral(value.map { String($0) } ?? "NULL", type: "int8")
    }

    /// Appends a double or NULL to the current column (Swift's shortest exact form; `inf`, `-inf` and
    /// `nan` are PostgreSQL's spellings too).
    mutating func append(_ value: Double?) {
        appendLiteral(value.map { "\($0)" } ?? "NULL", type: "float8")
    }

    /// Ends the current row: the next append goes to the first column.
    mutating func endRow() {
        precondition(column == literals.count, "a row has \(column) values, the table \(literals.count) columns")
        column = 0
        rows += 1
    }

    /// `unnest($1::text[], $2::int8[], …)` for these columns, parameters from `first`.
    func unnestSQL(first: Int = 1) -> String {
        "unnest(" + types.indices.map { "$\(first + $0)::\(types[$0])[]" }.joined(separator: ", ") + ")"
    }

    /// Appends one text array literal per column to `bindings`.
    func bind(into bindings: inout PostgresBindings) {
        for literal in literals { bindings.append(literal + "}") }
    }

    private mutating func appendLiteral(_ literal: String, type: String) {
        if rows > 0 { literals[column] += "," } else { types[column] = type }
        literals[column] += literal
        column += 1
    }
}
