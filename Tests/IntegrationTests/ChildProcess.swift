import Foundation
import PropellerLauncher

#if canImport(Glibc)
import Glibc
#endif

/// The result of running a command to completion.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion with a timeout (SIGKILL past it), capturing stdout and stderr.
func runCommand(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    directory: URL? = nil,
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let result = try await ProcessLauncher.run(
        executable,
        arguments: arguments,
        environment: environment,
        workingDirectory: directory?.path,
        timeout: timeout
    )
    return CommandResult(status: result.status, stdout: result.standardOutput, stderr: result.standardError)
}

/// Every descendant pid of a process (children, grandchildren, …), read from /proc.
func descendants(of pid: Int32) -> [Int32] {
    var result: [Int32] = []
    var queue = [pid]
    while let next = queue.popLast() {
        let taskDir = "/proc/\(next)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: taskDir)) ?? []
        for thread in threads {
            let text = (try? String(contentsOfFile: "\(taskDir)/\(thread)/children", encoding: .utf8)) ?? ""
            let children = text.split(separator: " ").compactMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            result += children
            queue += children
        }
    }
    return result
}

/// Whether a pid names a live (not zombie) process.
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z"
}

/// The repository root (for Examples/ and README.md).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
