import Foundation
import MSGit
import Testing

/// Errors a person can act on: exit code, message, hint, and nothing leaked or left behind.
@Suite struct ErrorTests {
    let hub = Hub.shared

    @Test func wrongTokenExits3WithTheServersWordsAndAHint() throws {
        let fixture = try Fixtures.standard("wrongtoken")
        let parent = Paths.scratch("err")
        let mark = hub.logSize(hub.git_access_log)
        let wrong = "not-the-token-\(UUID().uuidString)"
        let result = Shell.msgit(["clone", fixture.url, parent + "/repo"], env: ["MSGIT_TOKEN": wrong])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("HTTP Basic: Access denied"), "\(result.stderr)")
        #expect(result.stderr.contains("oauth2"))
        #expect(result.stderr.contains("personal access token"))
        #expect(result.stderr.contains("two-factor"))
        #expect(!result.output.contains(wrong))
        #expect(!FileManager.default.fileExists(atPath: parent + "/repo"), "the failed clone removes its directory")

        // The callback gives up after the first rejection instead of letting libgit2 replay the
        // token up to 15 times: libgit2 sends it once, the probe for the server's words once.
        let encoded = Data("oauth2:\(wrong)".utf8).base64EncodedString()
        let sent = hub.logLines(hub.git_access_log, since: mark).filter { $0.contains(encoded) }
        #expect(sent.count == 2, "\(sent)")
    }

    @Test func missingTokenExits3AndSaysWhereToPutOne() throws {
        let fixture = try Fixtures.standard("notoken")
        let result = Shell.msgit(["clone", fixture.url, Paths.scratch("err") + "/repo"])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("MSGIT_TOKEN"))
        #expect(result.stderr.contains("none was found"))
    }

    @Test func missingRepositoryExits4NamingTheURLWithoutUserinfo() throws {
        let url = hub.repoURL(Fixtures.name("missing"))
        let withToken = url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.token)@")
        let parent = Paths.scratch("err")
        for (arguments, env) in [([url], hub.env), ([withToken], [:])] {
            let result = Shell.msgit(["clone"] + arguments + [parent + "/repo"], env: env)
            #expect(result.status == 4, "\(result.output)")
            #expect(result.stderr.contains("repository '\(url)' not found"), "\(result.stderr)")
            #expect(!result.output.contains(hub.token))
            #expect(!result.output.contains("oauth2@"))
            #expect(!FileManager.default.fileExists(atPath: parent + "/repo"))
        }
    }

    @Test func unreachableHostIsAClearNetworkError() throws {
        // A port nothing listens on, on loopback.
        let port = FreePort.reserve()
        let result = Shell.msgit(["clone", "http://127.0.0.1:\(port)/ns/name.git", Paths.scratch("err") + "/repo"],
                                 env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("cannot reach 'http://127.0.0.1:\(port)/ns/name.git'"), "\(result.stderr)")
        #expect(result.stderr.contains("Connection refused"))
    }

    @Test(arguments: [
        ("ftp://host/ns/name.git", "unsupported URL scheme 'ftp'"),
        ("git@www.modelscope.cn:ns/name.git", "ssh URLs are not supported yet"),
        ("ssh://git@host/ns/name.git", "ssh URLs are not supported yet"),
        ("http://", "malformed URL"),
        ("http:///ns/name.git", "malformed URL"),
        ("https://host", "no repository path"),
        ("http://host:99999/ns/name.git", "malformed URL"),
    ])
    func badURLsAreUsageErrors(url: String, message: String) throws {
        let parent = Paths.scratch("err")
        let result = Shell.msgit(["clone", url, parent + "/repo"], env: hub.env)
        #expect(result.status == 2, "\(url): \(result.output)")
        #expect(result.stderr.contains(message), "\(url): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parent + "/repo"))
    }

    @Test func nonEmptyTargetDirectoryIsRefusedAndLeftAlone() throws {
        let fixture = try Fixtures.standard("nonempty")
        let dir = Paths.scratch("err")
        try Files.write(dir + "/precious.txt", "keep me\n")
        let result = Shell.msgit(["clone", fixture.url, dir], env: hub.env)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("already exists and is not an empty directory"))
        #expect(Files.read(dir + "/precious.txt") == "keep me\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/.git"))
    }

    @Test func unknownBranchIsNamed() throws {
        let fixture = try Fixtures.standard("nobranch")
        let parent = Paths.scratch("err")
        let result = Shell.msgit(["clone", "-b", "nope", fixture.url, parent + "/repo"], env: hub.env)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("Remote branch nope not found in upstream origin"))
        #expect(result.stderr.contains("dev"), "lists the branches there are")
        #expect(!FileManager.default.fileExists(atPath: parent + "/repo"))
    }

    @Test func invalidRefspecAndUnknownSource() throws {
        let fixture = try Fixtures.standard("refspec")
        let dir = Paths.scratch("err") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        let unknown = Shell.msgit(["-C", dir, "push", "origin", "no-such-branch"], env: hub.env)
        #expect(unknown.status == 2 && unknown.stderr.contains("src refspec no-such-branch does not match any"),
                "\(unknown.output)")
        let invalid = Shell.msgit(["-C", dir, "push", "origin", "master:refs/heads/bad..name"], env: hub.env)
        #expect(invalid.status == 2 && invalid.stderr.contains("invalid refspec"), "\(invalid.output)")
    }

    /// The error `body` throws, after checking that it throws one of `kind`; records an issue when
    /// it returns instead (a `do { } catch { }` alone would pass then).
    @discardableResult
    func expectFailure(_ kind: MSGitError.Kind, _ label: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws(MSGitError) -> Void) async -> MSGitError? {
        do {
            try await body()
            Issue.record("\(label): succeeded, expected \(kind)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.kind == kind, "\(label): \(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func libraryErrorsAreTyped() async throws {
        let fixture = try Fixtures.standard("typed")
        let dir = URL(fileURLWithPath: Paths.scratch("err") + "/repo")
        let refused = await expectFailure(.authenticationRejected, "a wrong token") { () async throws(MSGitError) in
            _ = try await GitClient(credentials: .token("wrong-token-value")).clone(fixture.url, into: dir)
        }
        #expect(refused?.serverMessage == "HTTP Basic: Access denied")
        #expect(refused.map { !$0.description.contains("wrong-token-value") } == true)
        await expectFailure(.authenticationRequired, "no token") { () async throws(MSGitError) in
            _ = try await GitClient(credentials: NoCredentials()).clone(fixture.url, into: dir)
        }
        await expectFailure(.notFound, "a missing repository") { () async throws(MSGitError) in
            _ = try await GitClient(credentials: .token(hub.token)).clone(hub.repoURL("no/such-repo"), into: dir)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path), "every failed clone removed what it made")
    }
}

enum FreePort {
    /// A loopback port with nothing listening on it (bound, then released).
    static func reserve() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
