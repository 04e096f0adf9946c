import Foundation
import Testing

@testable import PropellerWasm

/// Unit tests of the drained pipe that captures a guest's stdout and stderr.
@Suite("Output capture")
struct OutputCaptureTests {
    private func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    @Test("head retention keeps the first bytes and counts all, draining more than a pipe buffer")
    func head() throws {
        let capture = try OutputCapture(retention: .head(limit: 1000))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000)
        write(chunk, to: capture.writeDescriptor)
        write(Array("end".utf8), to: capture.writeDescriptor)
        let output = capture.finish()
        #expect(output.bytes == [UInt8](repeating: UInt8(ascii: "a"), count: 1000))
        #expect(output.totalBytes == 100_003)
        #expect(output.isTruncated)
    }

    @Test("tail retention keeps the last bytes")
    func tail() throws {
        let capture = try OutputCapture(retention: .tail(limit: 10))
        for index in 0..<1000 { write(Array("line \(index)\n".utf8), to: capture.writeDescriptor) }
        let output = capture.finish()
        #expect(output.tailText(limit: 10) == "\nline 999\n")
        #expect(output.totalBytes == (0..<1000).map { "line \($0)\n".utf8.count }.reduce(0, +))
    }

    @Test("nothing written gives empty output")
    func empty() throws {
        let output = try OutputCapture(retention: .head(limit: 10)).finish()
        #expect(output == OutputCapture.Output(bytes: [], totalBytes: 0))
        #expect(!output.isTruncated)
    }
}
