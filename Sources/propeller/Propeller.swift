import ArgumentParser
import PropellerCore

/// The `propeller` command: every service and the CLI in one thin executable.
@main
struct Propeller: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propeller",
        abstract: "Run WebAssembly tasks on proplets and monitor each one like an OS process.",
        version: PropellerVersion.current,
        subcommands: [
            DevCommand.self,
            TaskCommand.self,
            PropletCommand.self,
        ]
    )
}
