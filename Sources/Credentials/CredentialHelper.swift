import Foundation

/// One configured git credential helper, and how msgit runs it: as git's `credential_do` would,
/// through `/bin/sh -c`, with the description on standard input.
///
/// The command is the configured value with the action (`get`, `store`, `erase`) appended:
/// `!snippet` runs the snippet; an absolute path runs that program; any other name `n` (with its
/// arguments) runs `git credential-n`. Without git installed, `git-credential-n` is looked up in
/// git's exec path (`GIT_EXEC_PATH`, else `/usr/lib/git-core`, `/usr/libexec/git-core`, then
/// Homebrew's and the Command Line Tools') and then on `PATH`, as git would find it; `store`
/// is done natively on git's store files (`GitCredentialStore`), and `cache`, which needs git's
/// daemon, is reported as unavailable.
///
/// The token only ever travels on the helper's standard input: never in its arguments, which
/// other users can read in the process list, nor in its environment (`MSGIT_TOKEN` and
/// `MSGIT_PUSH_TOKEN` are taken out of it).
package struct CredentialHelper: Sendable {
    package enum Action: String, Sendable {
        case get, store, erase
    }

    /// How this helper runs here.
    package enum Runner: Equatable, Sendable {
        /// A command for `/bin/sh -c`, to which the action is appended.
        case shell(String)
        /// git's `credential-store`, done natively on these files (git is not installed).
        case nativeStore([URL])
        /// It cannot run here, and why.
        case unavailable(String)
    }

    /// The value as configured.
    package let command: String
    package let runner: Runner

    /// `command` as messages show it: one line, at most 60 characters.
    package var name: String { name(hiding: []) }

    /// `name` with `secrets` masked: a snippet may hold the very token it answers with
    /// (`!echo password=...`).
    package func name(hiding secrets: [String]) -> String {
        var line = command.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for secret in secrets where !secret.isEmpty { line = line.replacingOccurrences(of: secret, with: "***") }
        return line.count > 60 ? line.prefix(59) + "…" : line
    }

    /// Variables a helper never sees: they hold msgit's own tokens.
    package static let withheldVariables: Set<String> = ["MSGIT_TOKEN", "MSGIT_PUSH_TOKEN"]

    package init(_ command: String, environment: [String: String], home: URL?, git: String?) {
        self.command = command
        if command.hasPrefix("!") {
            runner = .shell(String(command.dropFirst()))
        } else if command.hasPrefix("/") {
            runner = .shell(command)
        } else if git != nil {
            runner = .shell("git credential-" + command)
        } else {
            runner = Self.withoutGit(command, environment: environment, home: home)
        }
    }

    /// How a helper named by git's short name runs when git is not installed.
    private static func withoutGit(_ command: String, environment: [String: String], home: URL?) -> Runner {
        let name = String(command.prefix { !$0.isWhitespace })
        let arguments = command.dropFirst(name.count)
        switch name {
        case "store":
            return nativeStore(arguments: String(arguments), environment: environment, home: home)
        case "cache":
            return .unavailable("needs git's credential-cache daemon, and git is not installed")
        default:
            let program = "git-credential-" + name
            for directory in execPath(environment) + searchPath(environment) {
                let candidate = directory + "/" + program
                if access(candidate, X_OK) == 0 {
                    return .shell(shellQuoted(candidate) + arguments)
                }
            }
            return .unavailable("was not found: no \(program) in git's exec path or on PATH, and git is not installed")
        }
    }

    /// `store [--file <path>]` read as git's `credential-store` reads its options, for the
    /// native store.
    private static func nativeStore(arguments: String, environment: [String: String], home: URL?) -> Runner {
        guard let words = shellWords(arguments, home: home) else {
            return .unavailable("has arguments msgit cannot read without a shell")
        }
        var file: String?
        var i = 0
        while i < words.count {
            let word = words[i]
            if word == "--file", i + 1 < words.count {
                file = words[i + 1]
                i += 2
            } else if word.hasPrefix("--file=") {
                file = String(word.dropFirst("--file=".count))
                i += 1
            } else {
                return .unavailable("has an option git's credential-store would refuse or msgit does not know")
            }
        }
        if let file {
            let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            return .nativeStore([URL(fileURLWithPath: path)])
        }
        var files: [URL] = []
        if let home { files.append(home.appendingPathComponent(".git-credentials")) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            files.append(URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("git/credentials"))
        } else if let home {
            files.append(home.appendingPathComponent(".config/git/credentials"))
        }
        guard !files.isEmpty else { return .unavailable("has no file to read: no home directory; use --file") }
        return .nativeStore(files)
    }

    /// The words of `text` as a POSIX shell splits simple arguments: blanks separate, `'...'`
    /// and `"..."` quote, `\` escapes, a leading unquoted `~/` is the home directory. nil for
    /// anything a shell would do more with (variables, globs, substitutions, operators).
    package static func shellWords(_ text: String, home: URL?) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = Array(text).makeIterator()
        var tildeAllowed = true
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current) }
                current = ""
                inWord = false
                tildeAllowed = true
            case "'":
                inWord = true
                tildeAllowed = false
                while let q = iterator.next(), q != "'" { current.append(q) }
            case "\"":
                inWord = true
                tildeAllowed = false
                while let q = iterator.next(), q != "\"" {
                    if q == "\\" || q == "$" || q == "`" { return nil }
                    current.append(q)
                }
            case "\\":
                inWord = true
                tildeAllowed = false
                if let next = iterator.next() { current.append(next) }
            case "~" where tildeAllowed && !inWord:
                guard let home else { return nil }
                inWord = true
                tildeAllowed = false
                current += home.path
            case "$", "`", "*", "?", "[", "|", "&", ";", "<", ">", "(", ")", "#":
                return nil
            default:
                inWord = true
                tildeAllowed = false
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    package static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// git's exec path, where git keeps its `git-credential-*` programs.
    package static func execPath(_ environment: [String: String]) -> [String] {
        if let path = environment["GIT_EXEC_PATH"], !path.isEmpty { return [path] }
        return ["/usr/lib/git-core", "/usr/libexec/git-core", "/opt/homebrew/opt/git/libexec/git-core",
                "/usr/local/opt/git/libexec/git-core", "/Library/Developer/CommandLineTools/usr/libexec/git-core"]
    }

    /// The directories of `PATH` (the system's default path when it is not set, as `execvp`).
    package static func searchPath(_ environment: [String: String]) -> [String] {
        (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// The `git` program on `PATH`, if git is installed.
    package static func findGit(_ environment: [String: String]) -> String? {
        searchPath(environment).map { $0 + "/git" }.first { access($0, X_OK) == 0 }
    }

    /// Runs `action` with `description` on standard input; for `get`, the description as the
    /// helper's answer leaves it.
    package func run(_ action: Action, _ description: CredentialDescription, protectCarriageReturn: Bool = true,
             environment: [String: String], timeout: Duration) throws(HelperFailure) -> CredentialDescription {
        let secrets = [description.password, description.oauthRefreshToken].compactMap { $0 }
        switch runner {
        case .unavailable(let reason):
            throw HelperFailure(helper: name(hiding: secrets), reason: reason)
        case .nativeStore(let files):
            do throws(MSGitError) {
                switch action {
                case .get:
                    guard let found = GitCredentialStore.lookup(description, files: files) else { return description }
                    var answer = description
                    answer.username = found.username
                    answer.password = found.password
                    return answer
                case .store: try GitCredentialStore.store(description, files: files)
                case .erase: try GitCredentialStore.erase(description, files: files)
                }
                return description
            } catch {
                throw HelperFailure(helper: name(hiding: secrets), reason: "(msgit's own credential-store) \(error.message)")
            }
        case .shell(let base):
            let input: [UInt8]
            do throws(CredentialDescription.UnsafeValue) {
                input = try description.encoded(protectCarriageReturn: protectCarriageReturn)
            } catch {
                throw HelperFailure(helper: name(hiding: secrets), reason: "was not asked: the \(error.key) holds a line break")
            }
            let command = base + " " + action.rawValue
            var childEnvironment = environment
            for variable in Self.withheldVariables { childEnvironment[variable] = nil }
            let outcome: ChildProcess.Outcome
            do throws(ChildProcess.SpawnFailure) {
                outcome = try ChildProcess.run(["/bin/sh", "-c", command, command], environment: childEnvironment,
                                               input: input, captureOutput: action == .get, timeout: timeout)
            } catch {
                throw HelperFailure(helper: name, reason: "could not be started: \(error.message)")
            }
            // What it said on standard error may repeat what it was given or what it answered.
            let answered = String(decoding: outcome.output, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line in
                let pair = line.split(separator: "=", maxSplits: 1)
                return pair.count == 2 && ["password", "oauth_refresh_token"].contains(pair[0]) ? String(pair[1]) : nil
            }
            let said = Self.excerpt(outcome.errorOutput, hiding: secrets + answered)
            let name = name(hiding: secrets + answered)
            switch outcome.termination {
            case .timedOut:
                throw HelperFailure(helper: name, reason: "did not answer within \(Self.format(timeout))")
            case .signalled(let signal):
                throw HelperFailure(helper: name, reason: "was killed by signal \(signal)" + said)
            case .exited(let status) where status != 0:
                throw HelperFailure(helper: name, reason: "failed with exit status \(status)" + said)
            case .exited:
                break
            }
            guard action == .get else { return description }
            guard !outcome.outputTruncated else {
                throw HelperFailure(helper: name, reason: "answered more than \(outcome.output.count) bytes")
            }
            do throws(CredentialDescription.AnswerError) {
                return try description.reading(answer: outcome.output)
            } catch {
                switch error {
                case .invalidLine(let number):
                    throw HelperFailure(helper: name, reason: "answered something other than key=value on line \(number)")
                }
            }
        }
    }

    /// The first line of what a helper wrote to standard error, as `": line"`, printable, at most
    /// 200 characters, with the secrets it was given or gave replaced; empty when it wrote none.
    package static func excerpt(_ bytes: [UInt8], hiding secrets: [String]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard var line = text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { !$0.isEmpty }) else { return "" }
        for secret in secrets where !secret.isEmpty { line = line.replacingOccurrences(of: secret, with: "***") }
        line = String(line.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
        if line.count > 200 { line = line.prefix(199) + "…" }
        return ": " + line
    }

    /// "30 s", "1.5 s".
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(Double(milliseconds) / 1000) s"
    }
}

/// A credential helper that could not be asked, or whose answer was not taken. Never holds a
/// token: only the helper's name as configured, and what happened.
package struct HelperFailure: Error, Equatable, Sendable, CustomStringConvertible {
    package var helper: String
    package var reason: String
    package var description: String { "credential helper '\(helper)' \(reason)" }
}
