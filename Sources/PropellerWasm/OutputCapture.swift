import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pipe whose read end is drained by a dedicated thread while the guest runs, so a guest writing
/// more than the pipe buffer (64 KiB) never blocks. Keeps either the first or the last `limit` bytes
/// and counts everything written; optionally copies every byte to another descriptor as it arrives.
///
/// Hand `writeDescriptor` to the WASI bridge; call `finish()` once the guest is done with it.
final class OutputCapture: Sendable {
    /// Which bytes to keep when more than the limit arrive.
    enum Retention: Sendable {
        /// The first `limit` bytes (a command's stdout).
        case head(limit: Int)
        /// The last `limit` bytes (the tail of stderr for an error message).
        case tail(limit: Int)
    }

    /// What was captured.
    struct Output: Sendable, Equatable {
        /// The kept bytes.
        var bytes: [UInt8]
        /// Every byte written, including those not kept.
        var totalBytes: Int
        /// Whether bytes were dropped.
        var isTruncated: Bool { totalBytes > bytes.count }
    }

    /// The write end, for the guest.
    let writeDescriptor: Int32
    private let readDescriptor: Int32
    private let retention: Retention
    private let copyDescriptor: Int32?
    private let state = Mutex(Output(bytes: [], totalBytes: 0))
    private let reader: Mutex<pthread_t?> = Mutex(nil)

    /// Creates the pipe and starts draining it.
    /// - Parameter copyTo: a descriptor that receives a copy of everything written (for example 2 to
    ///   forward a guest's stderr to the runner's own stderr); nil for none.
    init(retention: Retention, copyTo copyDescriptor: Int32? = nil) throws(WasmRunError) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            throw .runtime(reason: "cannot create a pipe for guest output: \(String(cString: strerror(errno)))")
        }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
        self.retention = retention
        self.copyDescriptor = copyDescriptor
        // A plain pthread: Foundation's Thread would pull in all of Foundation (≈6 MiB of RSS).
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 128 * 1024)
        defer { pthread_attr_destroy(&attributes) }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread,
            &attributes,
            { context in
                let capture = Unmanaged<OutputCapture>.fromOpaque(context!).takeRetainedValue()
                capture.drain()
                return nil
            },
            context
        )
        guard status == 0 else {
            Unmanaged<OutputCapture>.fromOpaque(context).release()
            close(readDescriptor)
            close(writeDescriptor)
            throw .runtime(reason: "cannot start a thread for guest output: \(String(cString: strerror(status)))")
        }
        reader.withLock { $0 = thread }
    }

    /// Closes the write end, waits until everything written has been read, and returns what was kept.
    /// Call once, after the guest can no longer write.
    func finish() -> Output {
        close(writeDescriptor)
        if let thread = reader.withLock({ $0 }) { pthread_join(thread, nil) }
        close(readDescriptor)
        return state.withLock { $0 }
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { readBytes(readDescriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            let chunk = buffer[0..<count]
            if let copyDescriptor { writeAll(chunk, to: copyDescriptor) }
            state.withLock { keep(chunk, in: &$0) }
        }
    }

    private func keep(_ chunk: ArraySlice<UInt8>, in output: inout Output) {
        output.totalBytes += chunk.count
        switch retention {
        case .head(let limit):
            let room = limit - output.bytes.count
            if room > 0 { output.bytes.append(contentsOf: chunk.prefix(room)) }
        case .tail(let limit):
            output.bytes.append(contentsOf: chunk.suffix(limit))
            // Trim in batches so a stream of small writes stays linear.
            if output.bytes.count > 2 * limit { output.bytes.removeFirst(output.bytes.count - limit) }
        }
    }

    private func writeAll(_ chunk: ArraySlice<UInt8>, to descriptor: Int32) {
        chunk.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension OutputCapture.Output {
    /// The last `limit` kept bytes as text (invalid UTF-8 replaced).
    func tailText(limit: Int) -> String {
        String(decoding: bytes.suffix(limit), as: UTF8.self)
    }
}
