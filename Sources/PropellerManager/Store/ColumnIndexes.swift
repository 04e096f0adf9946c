import GRDB

/// The positions of a result's columns by name, resolved once per statement (or row), so rows are
/// decoded by column name at the cost of an index: reordering a SELECT list cannot misread a column, and
/// a column that is missing is an error naming it (GRDB's own by-name lookup returns nil for a missing
/// optional column).
struct ColumnIndexes: Sendable {
    private let indexes: [String: Int]
    private let table: String

    /// The columns of a statement's results.
    init(_ columnNames: some Sequence<String>, table: String) {
        var indexes: [String: Int] = [:]
        for (index, name) in columnNames.enumerated() where indexes[name] == nil { indexes[name] = index }
        self.indexes = indexes
        self.table = table
    }

    /// The columns of one row.
    init(_ row: Row, table: String) throws {
        self.init(row.columnNames, table: table)
    }

    /// The index of a column; a missing column is a programming error reported as a database error.
    subscript(_ name: String) -> Int {
        get throws {
            guard let index = indexes[name] else {
                throw StoreError.database("the query of \(table) has no column \(name)")
            }
            return index
        }
    }
}
