import Foundation
@testable import Credentials
@testable import MSGit

/// A directory of its own under the temporary directory, removed when released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-cred-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    /// An executable shell script.
    func script(_ relative: String, _ body: String) throws -> String {
        try write(relative, "#!/bin/sh\n" + body)
        chmod(path(relative), 0o755)
        return path(relative)
    }

    func read(_ relative: String) -> String {
        (try? String(contentsOfFile: path(relative), encoding: .utf8)) ?? ""
    }
}

/// git itself, run with a home of the test's own and no system configuration, as the reference.
enum Git {
    static let executable = CredentialHelper.findGit(ProcessInfo.processInfo.environment)
    static var isInstalled: Bool { executable != nil }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The environment git and msgit are both given: this home, no system file, no prompts.
    static func environment(home: URL, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "HOME": home.path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        ]
        environment.merge(extra) { $1 }
        return environment
    }

    /// `git arguments` in `home` (so that no repository around the test is found), its standard
    /// output; throws when git fails.
    @discardableResult
    static func run(_ arguments: [String], home: URL, input: String = "", environment extra: [String: String] = [:])
        throws -> String {
        let outcome = try ChildProcess.run(["/bin/sh", "-c", "cd \"$0\" && exec git \"$@\"", home.path] + arguments,
                                           environment: environment(home: home, extra), input: Array(input.utf8),
                                           timeout: .seconds(60))
        guard outcome.termination == .exited(0) else {
            throw Failure(description: "git \(arguments.joined(separator: " ")): \(outcome.termination) "
                + String(decoding: outcome.errorOutput, as: UTF8.self))
        }
        return String(decoding: outcome.output, as: UTF8.self)
    }
}
