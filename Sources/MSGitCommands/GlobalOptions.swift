import ArgumentParser
import Foundation
import Logging
import MSGit

/// Options every network command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log more (repeat for more detail: -v info, -vv debug, -vvv trace). Tokens are masked at every level.")
    var verbose: Int

    @Flag(help: "Print one JSON object with the outcome on standard output (no progress).")
    var json = false

    @Option(help: ArgumentHelp(
        "Write one JSON line per LFS file event (queued, bytes, done, skipped, failed) to this file. "
            + "GIT_LFS_PROGRESS=<file> appends git-lfs's progress lines.", valueName: "path"))
    var lfsEvents: String?

    @Option(help: ArgumentHelp("Read the token from this file (first line).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp(
        "Read the token for writing (push, upload, mirror --push-to) from this file (default: MSGIT_PUSH_TOKEN; "
            + "without either, push and upload use the read token).", valueName: "path"))
    var pushTokenFile: String?

    @Option(help: "Username sent with the token (default: the one stored with it, else oauth2).")
    var username: String?

    @Option(help: ArgumentHelp("Give up when a connection is silent this long (default 120).", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp("Give up connecting after this long (default 30).", valueName: "seconds"))
    var connectTimeout: Double?

    func validate() throws {
        for (name, value) in [("--timeout", timeout), ("--connect-timeout", connectTimeout)] {
            if let value, !(value > 0 && value < 86_400) {
                throw ValidationError("\(name) must be a positive number of seconds")
            }
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

    /// Human output (progress, summaries) is off with --quiet and with --json.
    var humanOutput: Bool { !quiet && !json }

    /// Bootstraps the process's logging at this command's level: once, from the entry point
    /// (`MSGitCommand.runMain`), never from the library or a client factory.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = RedactingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
    }

    /// The client the command runs with.
    func makeClient() -> GitClient {
        var timeouts = Timeouts()
        if let timeout { timeouts.idle = .milliseconds(Int64(timeout * 1000)) }
        if let connectTimeout { timeouts.connect = .milliseconds(Int64(connectTimeout * 1000)) }
        let credentials = StandardCredentials(tokenFile: tokenFile.map { URL(fileURLWithPath: $0) })
        let writeCredentials = StandardWriteCredentials(tokenFile: pushTokenFile.map { URL(fileURLWithPath: $0) })
        return GitClient(credentials: credentials, writeCredentials: writeCredentials, username: username,
                         timeouts: timeouts, logger: Logger(label: "msgit"))
    }

    /// The handler of per-file LFS events, when `--lfs-events` or GIT_LFS_PROGRESS asks for one.
    func lfsEventHandler() throws -> LFSEventHandler? {
        try LFSEventLog.make(jsonPath: lfsEvents)?.handler
    }

    func progressRenderer() -> ProgressRenderer? {
        humanOutput ? ProgressRenderer() : nil
    }

    func say(_ text: String) {
        if humanOutput { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }
}

/// A command with the options every network command takes; the entry point reads its log level.
protocol GlobalOptionsCommand {
    var global: GlobalOptions { get }
}
