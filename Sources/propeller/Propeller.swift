import ArgumentParser
import Foundation
import PropellerCore

#if canImport(Glibc)
import Glibc
#endif

/// The `propeller` command: every service and the CLI in one thin executable.
@main
struct Propeller: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propeller",
        abstract: "Run WebAssembly tasks on proplets and monitor each one like an OS process.",
        version: PropellerVersion.current,
        subcommands: [
            ManagerCommand.self,
            PropletCommand.self,
            DevCommand.self,
            TaskCommand.self,
            PushCommand.self,
            BrokerConfigCommand.self,
            TopCommand.self,
        ]
    )

    /// Unblocks every signal before anything else runs: a parent that spawned this process from a thread
    /// with signals blocked (as Swift concurrency threads are) must not leave the services deaf to
    /// SIGTERM and SIGINT, which they use for graceful shutdown.
    static func main() async {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        do {
            try LogSettings(environment: ProcessInfo.processInfo.environment).bootstrap()
        } catch {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Glibc.exit(64)
        }
        await main(nil)
    }
}
