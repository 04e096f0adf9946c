#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Allocation-free parsing of the small text files under `/proc`.
enum ProcText {
    static let space = UInt8(ascii: " ")
    static let newline = UInt8(ascii: "\n")

    /// Parses a decimal integer (optional leading `-`) starting at `index`, skipping leading blanks;
    /// stops at the first byte that is not a digit and returns the value and that position.
    @inline(__always)
    static func integer(in bytes: UnsafeRawBufferPointer, from index: Int) -> (value: Int64, end: Int) {
        var position = index
        while position < bytes.count, bytes[position] == space || bytes[position] == UInt8(ascii: "\t") {
            position += 1
        }
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        while position < bytes.count {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ Int64(digit)
            position += 1
        }
        return (negative ? -value : value, position)
    }

    /// Whether `bytes` holds `literal` at `index`.
    @inline(__always)
    static func hasPrefix(_ literal: StaticString, in bytes: UnsafeRawBufferPointer, at index: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            return false
        }
        return true
    }

    /// The value of a `Key: value` line (as in `/proc/meminfo` and `/proc/[pid]/io`), or nil.
    static func field(_ key: StaticString, in bytes: UnsafeRawBufferPointer) -> Int64? {
        var lineStart = 0
        while lineStart < bytes.count {
            if hasPrefix(key, in: bytes, at: lineStart) {
                var position = lineStart + key.utf8CodeUnitCount
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
                position += 1
                let (value, end) = integer(in: bytes, from: position)
                return end > position ? value : nil
            }
            while lineStart < bytes.count, bytes[lineStart] != newline { lineStart += 1 }
            lineStart += 1
        }
        return nil
    }

    /// Reads the start of a file (up to `capacity` bytes) with open/read/close and hands the bytes to
    /// `body`; nil when the file cannot be read. For files read rarely (host figures, MemTotal).
    static func withFile<R>(
        _ path: String,
        capacity: Int = 4096,
        _ body: (UnsafeRawBufferPointer) -> R?
    ) -> R? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < capacity {
            let count = read(fd, buffer.baseAddress! + filled, capacity - filled)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return body(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
    }
}
