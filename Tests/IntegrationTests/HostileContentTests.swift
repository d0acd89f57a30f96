import Foundation
import Logging
import MSGit
import Synchronization
import Testing

/// Issue 23, class 4: no input traps the process. A pointer's size is whatever its author wrote:
/// 18 digits are valid for git-lfs, and ten of them overflowed a sum of sizes (exit 132, a
/// half-made clone left behind). Every command that reads such pointers ends with an answer.
@Suite struct HostileContentTests {
    let hub = Hub.shared

    @Test func pointersOfAbsurdSizesAreReportedNotTrappedOn() throws {
        let name = Fixtures.name("hugesizes")
        let work = Paths.scratch("hugesizes") + "/work"
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Git.commitAll(work, "Attributes")
        for i in 0..<10 {
            let oid = String(format: "%064x", i + 1)
            try Fixtures.commitRaw("version https://git-lfs.github.com/spec/v1\noid sha256:\(oid)\nsize 999999999999999999\n",
                                   at: "huge-\(i).bin", in: work)
        }
        // Their objects exist nowhere: git-lfs's pre-push hook would refuse the push.
        try hub.createBare(name)
        let url = hub.repoURL(name)
        try Git.run(["-c", "core.hooksPath=/dev/null", "push", "-q", url, "master"], in: work, hub: hub)
        let dir = Paths.scratch("hugesizes-clone") + "/repo"
        let clone = Shell.msgit(["clone", "--json", url, dir], env: hub.env, limit: .seconds(300))
        #expect(clone.status == 5, "\(clone.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(clone.stdout.utf8)) as? [String: Any])
        let failures = ((report["lfs"] as? [String: Any])?["failures"] as? [[String: Any]]) ?? []
        #expect(failures.count == 10, "\(clone.stdout)")
        #expect(Files.read(dir + "/huge-0.bin").hasPrefix("version https://git-lfs.github.com/spec/v1"), "still a pointer")
        for command in [["lfs", "ls-files", "--size"], ["status"], ["lfs", "du"], ["lfs", "fsck"], ["lfs", "pull"]] {
            let result = Shell.msgit(["-C", dir] + command, env: hub.env, limit: .seconds(300))
            #expect(result.status < 128, "\(command): killed by a signal: \(result.output)")
        }
    }
}

/// Issue 23, class 7: every encoded form of a token is masked. A hub that echoes the
/// `Authorization` it got (base64 of `oauth2:TOKEN`) in a 401 body, a batch error or a push
/// hook's `remote:` lines must not get it printed, at any verbosity, in `--json` or anywhere.
@Suite struct EchoedTokenTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    var forms: [String] {
        let basic = Data("oauth2:\(hub.token)".utf8).base64EncodedString()
        return [hub.token, basic, String(basic.dropLast(4)), Data(hub.token.utf8).base64EncodedString()]
    }

    func expectNoForm(_ text: String, _ label: String) {
        for form in forms { #expect(!text.contains(form), "\(label): \(form) in \(text)") }
    }

    @Test func aGitServerEchoingTheCredential() throws {
        for arguments in [["clone"], ["clone", "-vvv"], ["clone", "--json"]] {
            let result = Shell.msgit(arguments + ["\(fault.url)/echo-auth/ns/name.git", Paths.scratch("echo") + "/repo"],
                                     env: hub.env)
            #expect(result.status == 3, "\(arguments): \(result.output)")
            #expect(result.output.contains("Access denied for Basic"), "the server's words are shown: \(result.output)")
            expectNoForm(result.output, "\(arguments)")
        }
    }

    @Test func anLFSServerEchoingTheCredential() throws {
        // The endpoint's host gets the hub token only if it is the hub's; here a credential stored
        // for the fault server's own host goes there, and comes back.
        let home = Paths.scratch("home")
        try Files.write(home + "/.git-credentials", "\(fault.url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.token)@"))\n",
                        mode: 0o600)
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/echo/x.git/info/lfs")
        for arguments in [["clone"], ["clone", "-vvv"], ["clone", "--json"]] {
            let result = Shell.msgit(arguments + [repo.url, Paths.scratch("echo-lfs") + "/repo"],
                                     env: ["HOME": home, "MSGIT_TOKEN": hub.token])
            #expect(result.status == 5, "\(arguments): \(result.output)")
            #expect(result.output.contains("may not read this"), "\(result.output)")
            expectNoForm(result.output, "\(arguments)")
        }
    }

    /// A service's own log handler, at trace level, never sees the token either: the client masks
    /// whatever logger it is given (`MaskingLogHandler`), and the failure reasons of events.
    @Test func aServicesOwnLogHandlerNeverSeesTheEchoedToken() async throws {
        let fixture = try Fixtures.standard("echo-hook-lib")
        let hook = hub.bareRepoPath(fixture.name) + "/hooks/pre-receive"
        let basic = Data("oauth2:\(hub.token)".utf8).base64EncodedString()
        try Files.write(hook, "#!/bin/sh\necho \"seen Authorization: Basic \(basic)\"\nexit 1\n", mode: 0o755)
        let lines = CapturedLines()
        var logger = Logger(label: "service", factory: { _ in CapturingLogHandler(lines) })
        logger.logLevel = .trace
        var client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        client.logger = logger  // set after init: masked all the same
        let dir = URL(fileURLWithPath: Paths.scratch("echo-hook-lib") + "/repo")
        _ = try await client.clone(fixture.url, into: dir)
        try Git.configureIdentity(dir.path)
        try Files.write(dir.path + "/new.txt", "new\n")
        try Git.commitAll(dir.path, "New")
        await #expect(throws: MSGitError.self) { try await client.push(in: dir) }
        let text = lines.all.joined(separator: "\n")
        #expect(text.contains("seen Authorization: Basic ***"), "the hook's lines reach the service's log: \(text)")
        expectNoForm(text, "the service's log")
    }

    @Test func aPushHookEchoingTheCredential() throws {
        let fixture = try Fixtures.standard("echo-hook")
        let hook = hub.bareRepoPath(fixture.name) + "/hooks/pre-receive"
        let basic = Data("oauth2:\(hub.token)".utf8).base64EncodedString()
        try Files.write(hook, "#!/bin/sh\necho \"seen Authorization: Basic \(basic)\"\necho \"declined: \(basic)\" >&2\nexit 1\n",
                        mode: 0o755)
        let dir = Paths.scratch("echo-hook") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")
        for arguments in [["push"], ["push", "-vvv"], ["push", "--json"]] {
            let result = Shell.msgit(["-C", dir] + arguments, env: hub.env)
            #expect(result.status == 1, "\(arguments): \(result.output)")
            if arguments.contains("-vvv") {
                #expect(result.output.contains("remote: seen Authorization: Basic ***"), "the hook's lines are shown: \(result.output)")
            }
            expectNoForm(result.output, "\(arguments)")
        }
    }
}

/// Log lines a test's handler was given.
final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let lines: CapturedLines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    init(_ lines: CapturedLines) { self.lines = lines }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.append("\(event.message) \(event.metadata.map { "\($0)" } ?? "")")
    }
}
