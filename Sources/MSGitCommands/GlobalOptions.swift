import ArgumentParser
import Foundation
import Logging
import MSGit

/// Options every network command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log more (repeat for more detail: -v info, -vv debug, -vvv trace).")
    var verbose: Int

    @Option(help: "Username sent with the token (default: oauth2).")
    var username: String?

    @Option(help: ArgumentHelp("Give up when a connection is silent this long.", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0) {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
    }

    var logLevel: Logger.Level {
        switch verbose {
        case 0: .warning
        case 1: .info
        case 2: .debug
        default: .trace
        }
    }

    /// Bootstraps logging (once, for the process) and makes the client the command runs with.
    func makeClient() -> GitClient {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        var timeouts = Timeouts()
        if let timeout { timeouts.idle = .milliseconds(Int64(timeout * 1000)) }
        return GitClient(credentials: EnvironmentCredentials(), username: username, timeouts: timeouts,
                         logger: Logger(label: "msgit"))
    }

    func progressRenderer() -> ProgressRenderer? {
        quiet ? nil : ProgressRenderer()
    }
}
