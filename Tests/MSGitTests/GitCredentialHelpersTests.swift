import Foundation
import Testing
@testable import Credentials
@testable import MSGit

/// A home of its own with a helper script that logs what it is told and answers from a file,
/// configured in `~/.gitconfig`, for msgit's provider and for git itself.
final class HelperWorld {
    let dir: TemporaryDirectory
    var environment: [String: String]
    /// The logging helper, an absolute path: configure it as `<logHelper> <name>`.
    let logHelper: String

    /// `withGit: false` leaves git off the helpers' `PATH`, as on a machine without git.
    init(withGit: Bool = true) throws {
        dir = try TemporaryDirectory()
        let script = """
            PATH=/usr/bin:/bin
            name=$1; shift
            input=$(cat)
            { printf '%s %s\\n' "$name" "$*"; printf '%s\\n' "$input"; echo --; } >> '\(dir.path("log"))'
            printf '%s\\n' "$*" >> '\(dir.path("argv"))'
            env >> '\(dir.path("env"))'
            if [ "$1" = get ] && [ -f '\(dir.path("answers"))'/"$name" ]; then cat '\(dir.path("answers"))'/"$name"; fi
            exit 0
            """
        logHelper = try dir.script("log-helper", script)
        _ = try dir.script("bin/git-credential-logtest", script)
        let systemPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment = Git.environment(home: dir.url, ["PATH": dir.path("bin") + (withGit ? ":" + systemPath : "")])
    }

    func config(_ text: String) throws { try dir.write(".gitconfig", text) }

    /// What helper `name` answers to `get` from now on (nil: nothing).
    func answer(_ name: String, _ text: String?) throws {
        if let text {
            try dir.write("answers/\(name)", text)
        } else {
            try? FileManager.default.removeItem(atPath: dir.path("answers/\(name)"))
        }
    }

    var log: String { dir.read("log") }

    func clearLog() { try? FileManager.default.removeItem(atPath: dir.path("log")) }

    func helpers(timeout: Duration = .seconds(20)) -> GitCredentialHelpers {
        GitCredentialHelpers(environment: environment, home: dir.url, timeout: timeout)
    }

    /// `git credential <action>` with these lines; the username and password git printed.
    @discardableResult
    func git(_ action: String, _ lines: [String]) throws -> (username: String?, password: String?) {
        let output = try Git.run(["credential", action], home: dir.url, input: lines.joined(separator: "\n") + "\n\n",
                                 environment: environment)
        var username: String?, password: String?
        for line in output.split(separator: "\n") {
            if line.hasPrefix("username=") { username = String(line.dropFirst(9)) }
            if line.hasPrefix("password=") { password = String(line.dropFirst(9)) }
        }
        return (username, password)
    }
}

@Suite struct GitCredentialHelpersTests {
    let url = try! RemoteURL("https://hub.example/ns/repo.git")

    @Test(.enabled(if: Git.isInstalled)) func helpersAreAskedAndToldWhatGitAsksAndTells() throws {
        let world = try HelperWorld()
        try world.config("""
            [credential]
            \thelper = \(world.logHelper) one
            \thelper = logtest two
            [credential "https://hub.example"]
            \thelper = "!\(world.logHelper) three"
            \tusername = alice
            [credential "https://other.example"]
            \thelper = \(world.logHelper) never
            """)
        try world.answer("three", "password=token-from-three\n")

        let git = try world.git("fill", ["url=https://hub.example/ns/repo.git"])
        let gitLog = world.log
        world.clearLog()
        let credential = try #require(try world.helpers().credential(for: url))
        #expect(world.log == gitLog)
        #expect(gitLog.hasPrefix("one get\nprotocol=https\nhost=hub.example\nusername=alice\n--\ntwo get\n"))
        #expect(gitLog.components(separatedBy: "--\n").count == 4, "one, two, three; never 'never'")
        #expect(credential.username == git.username && credential.token == git.password)
        #expect(credential.token == "token-from-three")
        #expect(credential.source == "git credential helper '!\(world.logHelper) three'")

        world.clearLog()
        try world.git("approve", ["url=https://hub.example/ns/repo.git", "username=alice", "password=token-from-three"])
        let gitStore = world.log
        world.clearLog()
        try world.helpers().approve(credential, for: url)
        #expect(world.log == gitStore)
        #expect(gitStore.contains("one store\nprotocol=https\nhost=hub.example\nusername=alice\npassword=token-from-three\n--"))

        world.clearLog()
        try world.git("reject", ["url=https://hub.example/ns/repo.git", "username=alice", "password=token-from-three"])
        let gitErase = world.log
        world.clearLog()
        try world.helpers().reject(credential, for: url)
        #expect(world.log == gitErase)
        #expect(gitErase.components(separatedBy: " erase\n").count == 4)
    }

    @Test(.enabled(if: Git.isInstalled)) func pathsAndPortsAreToldAsGitTellsThem() throws {
        let world = try HelperWorld()
        try world.config("""
            [credential "http://hub.example:8080/ns"]
            \thelper = \(world.logHelper) scoped
            \tuseHttpPath = true
            [credential "http://hub.example:8080/other"]
            \thelper = \(world.logHelper) other
            """)
        try world.answer("scoped", "username=u\npassword=p\n")
        _ = try world.git("fill", ["url=http://hub.example:8080/ns/a%20b.git"])
        let gitLog = world.log
        world.clearLog()
        _ = try world.helpers().credential(for: RemoteURL("http://hub.example:8080/ns/a%20b.git"))
        #expect(world.log == gitLog)
        #expect(gitLog == "scoped get\nprotocol=http\nhost=hub.example:8080\npath=ns/a b.git\n--\n")
    }

    @Test func aShellSnippetAnswers() throws {
        let world = try HelperWorld()
        try world.dir.write("token", "snippet-token-1234\n")
        try world.config("""
            [credential]
            \thelper = "!f() { test \\"$1\\" = get && echo username=bob && echo password=$(cat '\(world.dir.path("token"))'); }; f"
            """)
        let credential = try #require(try world.helpers().credential(for: url))
        #expect(credential.username == "bob" && credential.token == "snippet-token-1234")
        #expect(credential.source.hasPrefix("git credential helper '!f() {"))
    }

    @Test func aHelperThatHangsIsKilledAndNamed() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \"!exec sleep 30 #\"\n")
        #expect {
            _ = try world.helpers(timeout: .seconds(1)).credential(for: url)
        } throws: { error in
            (error as? MSGitError)?.kind == .authenticationRequired
                && "\(error)".contains("credential helper '!exec sleep 30 #' did not answer within 1 s")
        }
        // The next helper is still asked.
        try world.config("[credential]\n\thelper = \"!exec sleep 30 #\"\n\thelper = \(world.logHelper) next\n")
        try world.answer("next", "username=u\npassword=after-the-hang\n")
        #expect(try world.helpers(timeout: .milliseconds(500)).credential(for: url)?.token == "after-the-hang")
    }

    @Test func aFailingOrGarbledHelperIsReportedAndTheNextAsked() throws {
        let world = try HelperWorld()
        let failing = "!f() { echo username=u; echo password=half-told-token; echo \"no access to half-told-token\" >&2; exit 3; }; f"
        try world.config("[credential]\n\thelper = \"\(failing.replacingOccurrences(of: "\"", with: "\\\""))\"\n"
            + "\thelper = \"!echo garbage\"\n")
        #expect {
            _ = try world.helpers().credential(for: url)
        } throws: { error in
            let text = "\(error)"
            return text.contains("failed with exit status 3: no access to ***")
                && text.contains("credential helper '!echo garbage' answered something other than key=value on line 1")
                && !text.contains("half-told-token")
        }
        try world.config("[credential]\n\thelper = \"!exit 1\"\n\thelper = \(world.logHelper) good\n")
        try world.answer("good", "username=u\npassword=good-token\n")
        let credential = try world.helpers().credential(for: url)
        #expect(credential?.token == "good-token" && credential?.source == "git credential helper '\(world.logHelper) good'")
    }

    @Test func aHelperThatCannotStoreIsReportedAfterTheOthersWereTold() throws {
        let world = try HelperWorld()
        let snippet = "!f() { cat >/dev/null; test $1 = get && echo username=u && echo password=store-me-9876; "
            + "test $1 = store && echo cannot keep store-me-9876 >&2 && exit 2; exit 0; }; f"
        try world.config("[credential]\n\thelper = \"\(snippet)\"\n\thelper = \(world.logHelper) after\n")
        let credential = try #require(try world.helpers().credential(for: url))
        #expect {
            try world.helpers().approve(credential, for: url)
        } throws: { error in
            let text = "\(error)"
            return (error as? MSGitError)?.kind == .io && text.contains("failed with exit status 2: cannot keep ***")
                && !text.contains("store-me-9876")
        }
        #expect(world.log.contains("after store\n"), "the helpers after the failing one are still told")
    }

    @Test func anExpiredPasswordIsNeitherUsedNorPassedOn() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) old\n\thelper = \(world.logHelper) new\n")
        try world.answer("old", "username=u\npassword=expired-token\npassword_expiry_utc=1000\n")
        try world.answer("new", "password=fresh-token\n")
        let credential = try #require(try world.helpers().credential(for: url))
        #expect(credential.token == "fresh-token" && credential.username == "u")
        #expect(!world.log.contains("expired-token"), "git clears an expired password before asking the next helper")
        #expect(world.log.contains("new get\nprotocol=https\nhost=hub.example\nusername=u\n--"))

        try world.answer("new", nil)
        #expect(try world.helpers().credential(for: url) == nil)
    }

    @Test func expiryAndRefreshTokenGoBackToTheHelpersOnApprove() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) oauth\n")
        try world.answer("oauth", "username=u\npassword=access\npassword_expiry_utc=4102444800\noauth_refresh_token=refresh\nfuture_field=x\n")
        let credential = try #require(try world.helpers().credential(for: url))
        world.clearLog()
        try world.helpers().approve(credential, for: url)
        #expect(world.log == """
            oauth store
            protocol=https
            host=hub.example
            username=u
            password=access
            oauth_refresh_token=refresh
            password_expiry_utc=4102444800
            --

            """)
    }

    @Test func quitStopsTheSearch() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) quitter\n\thelper = \(world.logHelper) later\n")
        try world.answer("quitter", "quit=1\n")
        try world.answer("later", "username=u\npassword=p\n")
        #expect {
            _ = try world.helpers().credential(for: url)
        } throws: { error in
            "\(error)".contains("credential helper '\(world.logHelper) quitter' told msgit to quit")
        }
        #expect(!world.log.contains("later get"))
    }

    @Test func theTokenIsNeverInArgumentsOrEnvironment() throws {
        let world = try HelperWorld()
        world.environment["MSGIT_TOKEN"] = "environment-token-5678"
        world.environment["MSGIT_PUSH_TOKEN"] = "push-token-5678"
        try world.config("[credential]\n\thelper = \(world.logHelper) h\n")
        try world.answer("h", "username=u\npassword=helper-token-5678\n")
        let credential = try #require(try world.helpers().credential(for: url))
        try world.helpers().approve(credential, for: url)
        try world.helpers().reject(credential, for: url)
        #expect(world.log.contains("password=helper-token-5678"), "on standard input")
        let exposed = world.dir.read("argv") + world.dir.read("env")
        #expect(!exposed.isEmpty)
        for secret in ["helper-token-5678", "environment-token-5678", "push-token-5678"] { #expect(!exposed.contains(secret)) }
    }

    @Test func approveAndRejectAreOnlyForCredentialsTheHelpersGave() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) h\n")
        let helpers = world.helpers()
        try helpers.approve(Credential(token: "from-elsewhere", source: "MSGIT_TOKEN"), for: url)
        try helpers.reject(Credential(token: "from-elsewhere", source: "git credential helper 'h'"), for: url)
        try world.answer("h", "username=u\npassword=given\n")
        let credential = try #require(try helpers.credential(for: url))
        world.clearLog()
        try helpers.approve(credential, for: RemoteURL("https://another.example/ns/repo.git"))
        #expect(world.log.isEmpty)
        // A chain tells every provider; the default is to do nothing.
        try CredentialChain([StaticCredentials(token: "t"), helpers]).approve(credential, for: url)
        #expect(world.log.hasPrefix("h store\n"))
        try StaticCredentials(token: "t").reject(credential, for: url)
    }

    /// The same store file through git's credential-store and, without git, msgit's own.
    @Test(.enabled(if: Git.isInstalled), arguments: [true, false])
    func gitsCredentialStoreKeepsWhatWasApproved(withGit: Bool) throws {
        let world = try HelperWorld(withGit: withGit)
        let file = world.dir.path("store file")
        try world.config("[credential]\n\thelper = \(world.logHelper) source\n\thelper = store --file '\(file)'\n")
        try world.answer("source", "username=alice\npassword=p@ss/w:rd%\n")
        let helpers = world.helpers()
        let credential = try #require(try helpers.credential(for: url))
        try helpers.approve(credential, for: url)
        try world.answer("source", nil)
        let stored = try #require(try helpers.credential(for: url))
        #expect(stored.token == "p@ss/w:rd%" && stored.username == "alice")
        #expect(stored.source == "git credential helper 'store --file '\(file)''")
        #expect(world.dir.read("store file") == "https://alice:p%40ss%2fw%3ard%25@hub.example\n", "as git writes it")
        try helpers.reject(stored, for: url)
        #expect(world.dir.read("store file") == "")
        #expect(try helpers.credential(for: url) == nil)
    }

    @Test(.enabled(if: Git.isInstalled)) func gitsCredentialCacheKeepsWhatWasApproved() throws {
        let world = try HelperWorld()
        let socket = world.dir.path("cache/socket")
        try world.config("[credential]\n\thelper = \(world.logHelper) source\n\thelper = cache --socket \(socket)\n")
        defer { _ = try? Git.run(["credential-cache", "--socket", socket, "exit"], home: world.dir.url, environment: world.environment) }
        try world.answer("source", "username=alice\npassword=cached-token\n")
        let helpers = world.helpers()
        let credential = try #require(try helpers.credential(for: url))
        try helpers.approve(credential, for: url)
        try world.answer("source", nil)
        let cached = try #require(try helpers.credential(for: url))
        #expect(cached.token == "cached-token" && cached.source == "git credential helper 'cache --socket \(socket)'")
        try helpers.reject(cached, for: url)
        #expect(try helpers.credential(for: url) == nil)
    }

    @Test func withoutGitCacheIsUnavailableAndUnknownHelpersAreNotFound() throws {
        let world = try HelperWorld(withGit: false)
        try world.config("[credential]\n\thelper = cache\n\thelper = nosuchhelper --flag\n\thelper = logtest found\n")
        try world.answer("found", "username=u\npassword=from-path\n")
        let fill = try world.helpers().fill(for: url, secondaryOrigin: false)
        #expect(fill.credential?.token == "from-path", "git-credential-logtest found on PATH")
        #expect(fill.failures.map(\.description) == [
            "credential helper 'cache' needs git's credential-cache daemon, and git is not installed",
            "credential helper 'nosuchhelper --flag' was not found: no git-credential-nosuchhelper in git's exec path or on PATH, "
                + "and git is not installed",
        ])
    }

    @Test func secondaryOriginsAskOnlyHelpersThatKeepCredentialsPerHost() throws {
        let world = try HelperWorld()
        try world.config("""
            [credential]
            \thelper = \(world.logHelper) every-host
            [credential "https://lfs.example"]
            \thelper = \(world.logHelper) this-host
            """)
        try world.answer("every-host", "username=u\npassword=generic\n")
        let lfs = try RemoteURL("https://lfs.example/ns/repo.git/info/lfs")
        #expect(try world.helpers().credential(forSecondaryOrigin: lfs) == nil)
        #expect(world.log == "this-host get\nprotocol=https\nhost=lfs.example\n--\n")
        #expect(try world.helpers().credential(for: lfs)?.token == "generic")
    }
}
