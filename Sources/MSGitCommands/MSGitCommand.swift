import ArgumentParser
import Foundation
import MSGit

/// `msgit`: clone, fetch and push model repositories over HTTP(S) without git installed.
public struct MSGitCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "msgit",
        abstract: "Clone, fetch and push git repositories of model hubs over HTTP(S), in process.",
        discussion: """
            Tokens: the first of --token-file, MSGIT_TOKEN, ~/.modelscope/credentials/git_token (for \
            ModelScope hosts), git's credential store (~/.git-credentials, \
            $XDG_CONFIG_HOME/git/credentials) and ~/.netrc that has one. It is sent as the password of \
            the user 'oauth2' (or the one stored with it; --username overrides), as ModelScope and \
            other GitLab-based hubs expect, and only to the host of the repository URL.

            Short names: 'namespace/name' means https://www.modelscope.cn/namespace/name.git. \
            MSGIT_ENDPOINT replaces the base URL (scheme, host and port, e.g. https://www.modelscope.ai \
            or http://127.0.0.1:8080); MODELSCOPE_DOMAIN is honoured as ModelScope's SDK honours it.

            Exit codes: 0 success, 1 failure, 2 usage error, 3 authentication required or rejected, \
            4 repository not found, 5 git succeeded but some LFS files could not be fetched, \
            130 interrupted.
            """,
        version: BuildInfo.versionLine,
        subcommands: [CloneCommand.self, FetchCommand.self, PullCommand.self, CheckoutCommand.self, StatusCommand.self,
                      PushCommand.self, LFSCommand.self, UploadCommand.self, MirrorCommand.self, AuthCommand.self]
    )

    // Shown in the help; handled before parsing by `main()`, since git allows it only before the
    // subcommand and applies each one in turn.
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if msgit was started in <path>.", valueName: "path"))
    var directory: [String] = []

    public init() {}

    /// Parses the command line, runs the command, and exits with msgit's exit codes.
    public static func runMain() async {
        // A parent may have left SIGINT/SIGTERM blocked; Ctrl-C must reach the cancellation handler.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            // git's -C: leading "-C <dir>" pairs, applied in order, before the subcommand.
            while arguments.first == "-C" {
                guard arguments.count >= 2 else { throw ValidationError("-C requires a directory") }
                let path = arguments[1]
                guard FileManager.default.changeCurrentDirectoryPath(path) else {
                    throw MSGitError(.invalidArgument, "cannot change to '\(path)': No such file or directory")
                }
                arguments.removeFirst(2)
            }
            var command = try parseAsRoot(arguments)
            GlobalOptions.bootstrapLogging(level: (command as? any GlobalOptionsCommand)?.global.logLevel ?? .warning)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Prints `error` the way a person can act on it and exits with its code.
    static func exit(withError error: any Error) -> Never {
        if let error = error as? MSGitError {
            printError(error.description)
            Foundation.exit(ExitStatus.code(for: error))
        }
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if !message.isEmpty {
            if code == .success { print(message) } else { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        }
        // ArgumentParser's usage errors exit 64 (EX_USAGE); msgit's usage errors exit 2.
        Foundation.exit(code == .success ? 0 : (code == .validationFailure ? ExitStatus.usage : code.rawValue))
    }

    static func printError(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, line) in lines.enumerated() {
            out += (i == 0 ? "error: " : "") + line + "\n"
        }
        FileHandle.standardError.write(Data(out.redacted.utf8))
    }
}
