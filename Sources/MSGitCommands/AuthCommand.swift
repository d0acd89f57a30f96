import ArgumentParser
import Foundation
import MSGit

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Check and store tokens.",
        subcommands: [AuthCheckCommand.self, AuthStoreCommand.self])
}

struct AuthCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Tell which tokens msgit would use for a repository and whether the hub accepts them.",
        discussion: """
            Prints where the token for reading and the token for writing come from (never the tokens), \
            whether the hub lets the first read and, as far as the server tells before a push, the second \
            write. The write token is --push-token-file or MSGIT_PUSH_TOKEN, else the read token. Exits 0 \
            if it may read, 3 if it is refused or missing, 4 if the repository does not exist.
            """)

    @Argument(help: "The repository URL or short name.")
    var url: String

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.makeClient()
        let url = url
        let report = try await global.perform("auth check", { try await client.checkAccess(url) },
                                              fill: { report, access in
            report.url = access.url
            report.access = access
            report.exitCode = AuthCheckCommand.exitCode(access)
            if report.exitCode != ExitStatus.success { report.status = "error" }
        })
        if !global.json {
            print("repository:  \(report.url)")
            print("read token:  \(Self.describe(report.source, report.username))")
            print("write token: \(Self.describe(report.writeSource, report.writeUsername))")
            print("read:        \(report.read.rawValue)")
            print("write:       \(report.write.rawValue)")
            if let message = report.serverMessage { print("server:      \(message)") }
            if report.source == nil { print("hint: " + StandardCredentials.sourcesHelp) }
        }
        let code = Self.exitCode(report)
        if code != ExitStatus.success { throw ExitCode(code) }
    }

    static func describe(_ source: String?, _ username: String?) -> String {
        source.map { "from \($0), user \(username ?? Credential.defaultUsername)" } ?? "none found"
    }

    static func exitCode(_ access: AccessReport) -> Int32 {
        switch access.read {
        case .accepted: ExitStatus.success
        case .refused: ExitStatus.authentication
        case .notFound: ExitStatus.notFound
        case .unknown: ExitStatus.failure
        }
    }
}

struct AuthStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Save a token for a hub in git's credential store (~/.git-credentials, mode 0600).",
        discussion: """
            The token is read from standard input, never from an argument (arguments are visible to \
            other users in the process list). Example: msgit auth store https://www.modelscope.cn < token.txt
            """)

    @Argument(help: "A URL on the hub (only its scheme, host and port are kept).")
    var url: String

    @Option(help: "The username stored with the token (default: oauth2).")
    var username = Credential.defaultUsername

    func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let token = String(decoding: input, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let standard = StandardCredentials()
        let file = standard.gitCredentialFiles[0]
        try CredentialStoreFile.save(token: token, for: url, username: username, file: file)
        FileHandle.standardError.write(Data("stored a token for \(username) in \(file.path)\n".utf8))
    }
}

extension AuthCheckCommand: GlobalOptionsCommand {}
