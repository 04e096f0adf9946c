import Foundation

/// The API tokens of `MANAGER_API_TOKENS_FILE` (SPEC §7): one `TOKEN ROLE` a line, role `admin` (every
/// request) or `read` (GET and HEAD only). Blank lines and lines starting with `#` are ignored.
///
/// Tokens are compared in constant time (every configured token is compared in full, whatever
/// matches), and neither `description` nor any error ever contains one.
public struct APITokens: Sendable, Hashable, CustomStringConvertible {
    /// What a token may do.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Every endpoint and method.
        case admin
        /// Reads only: GET and HEAD.
        case read
    }

    private struct Entry: Sendable, Hashable {
        var token: [UInt8]
        var role: Role
    }

    private var entries: [Entry]

    /// No tokens: authentication is off.
    public static let none = APITokens(entries: [])

    private init(entries: [Entry]) {
        self.entries = entries
    }

    /// Whether any token is configured (authentication is on).
    public var isEnabled: Bool { !entries.isEmpty }

    /// How many tokens there are of each role, e.g. `2 tokens (1 admin, 1 read)`.
    public var description: String {
        let admins = entries.filter { $0.role == .admin }.count
        return "\(entries.count) tokens (\(admins) admin, \(entries.count - admins) read)"
    }

    /// Parses the file's text. Tokens must be at least 16 characters of visible ASCII.
    ///
    /// - Throws: a message naming the line number (never the token) and what is accepted.
    public init(parsing text: String) throws(APITokensError) {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(.newlines))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else {
                throw APITokensError(line: index + 1, problem: "expected `TOKEN ROLE` (two fields)")
            }
            guard let role = Role(rawValue: String(fields[1])) else {
                throw APITokensError(
                    line: index + 1,
                    problem: "the role must be admin or read, got '\(fields[1].prefix(16))'"
                )
            }
            let token = Array(fields[0].utf8)
            guard token.count >= 16, token.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APITokensError(line: index + 1, problem: "a token must be at least 16 visible ASCII characters")
            }
            entries.append(Entry(token: token, role: role))
        }
        guard !entries.isEmpty else {
            throw APITokensError(line: 0, problem: "the file holds no token; expected lines of `TOKEN ROLE`")
        }
        self.init(entries: entries)
    }

    /// The role of `token`, or nil when it is not configured. Runs in time that depends only on the
    /// lengths of the configured tokens, not on how much of `token` matches any of them.
    public func role(of token: Substring) -> Role? {
        let candidate = Array(token.utf8)
        var found: Role?
        for entry in entries where Self.constantTimeEqual(entry.token, candidate) && found == nil {
            found = entry.role
        }
        return found
    }

    /// Compares every byte of `expected` (the secret's length is all the timing reveals).
    static func constantTimeEqual(_ expected: [UInt8], _ candidate: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ candidate.count)
        for index in expected.indices {
            let other = index < candidate.count ? candidate[index] : 0
            difference |= expected[index] ^ other
        }
        return difference == 0
    }
}

/// A `MANAGER_API_TOKENS_FILE` that does not parse: the line and the problem, never the token.
public struct APITokensError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number (0 for the file as a whole).
    public var line: Int
    /// What is wrong and what is accepted.
    public var problem: String

    /// `line N: problem`.
    public var description: String { line == 0 ? problem : "line \(line): \(problem)" }
}
