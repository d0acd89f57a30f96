import Foundation
import Testing

/// Issue 23, class 2: a credential never reaches another origin, by any path in libgit2. libgit2
/// 1.5.1 sends a credential it holds to wherever a redirect leads when the answer carries
/// `WWW-Authenticate`, without calling the credential callback; msgit's socket stream refuses to
/// open a request to any other host or port once the credential was given.
@Suite struct CredentialOriginTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    var tokenHeader: String { "Basic " + Data("oauth2:\(hub.token)".utf8).base64EncodedString() }

    /// Requests since `mark` about `name` (tests run at once share the server) that went anywhere
    /// but the fault server's first address and port.
    func elsewhere(since mark: UInt64, about name: String) -> [FaultServer.Request] {
        fault.requests(since: mark).filter { ($0.host != "127.0.0.1" || $0.port != fault.port) && $0.path.contains(name) }
    }

    /// No request about `name` to another origin carried the token, and none sent a body there.
    func expectNothingReachedAnotherOrigin(since mark: UInt64, about name: String, _ label: String) {
        let other = elsewhere(since: mark, about: name)
        #expect(other.allSatisfy { $0.authorization == nil }, "\(label): \(other)")
        #expect(other.allSatisfy { $0.method != "POST" }, "\(label): a pack went elsewhere: \(other)")
    }

    @Test(arguments: ["auth-then-redirect-www", "auth-then-redirect-port"])
    func aRedirectAfterTheTokenWasAcceptedDoesNotTakeItAlong(scenario: String) throws {
        let name = "ns/origin-\(UUID().uuidString.prefix(8))"
        let mark = fault.logSize
        let result = Shell.msgit(["clone", "\(fault.url)/\(scenario)/\(name).git", Paths.scratch("origin") + "/repo"],
                                 env: hub.env)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("msgit sends a token only to the host it was given for"), "\(result.stderr)")
        #expect(fault.requests(since: mark).contains { $0.authorization == tokenHeader }, "the origin got the token")
        expectNothingReachedAnotherOrigin(since: mark, about: name, scenario)
        #expect(!result.output.contains(hub.token))
    }

    @Test func aRedirectBeforeAnyTokenDoesNotGetOneLater() throws {
        // The first answer is a 302 with WWW-Authenticate to another host, which then asks for
        // credentials: libgit2 names the original URL to the callback, so only the stream knows.
        let name = "ns/origin-\(UUID().uuidString.prefix(8))"
        let mark = fault.logSize
        let result = Shell.msgit(["clone", "\(fault.url)/redirect-www/\(name).git", Paths.scratch("origin") + "/repo"],
                                 env: hub.env)
        #expect(result.status == 3, "\(result.output)")
        #expect(elsewhere(since: mark, about: name).contains { $0.path.hasPrefix("/record/") }, "the redirect was followed")
        expectNothingReachedAnotherOrigin(since: mark, about: name, "redirect-www")
    }

    @Test func fetchAndPushKeepTheTokenAtHome() throws {
        let fixture = try Fixtures.standard("origin-fetch")
        let dir = Paths.scratch("origin-fetch") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")
        for scenario in ["auth-then-redirect-www", "auth-then-redirect-port"] {
            try Git.run(["remote", "set-url", "origin", "\(fault.url)/\(scenario)/\(fixture.name).git"], in: dir)
            for command in [["fetch"], ["push"]] {
                let mark = fault.logSize
                let result = Shell.msgit(["-C", dir] + command, env: hub.env)
                #expect(result.status == 3, "\(scenario) \(command): \(result.output)")
                expectNothingReachedAnotherOrigin(since: mark, about: fixture.name, "\(scenario) \(command)")
            }
        }
    }

    @Test func aRedirectOfThePackRequestAfterAnAcceptedAdvertisementGoesNowhere() throws {
        // info/refs is answered by the hub itself (through the fault server, token accepted); the
        // POST that follows is redirected elsewhere with WWW-Authenticate.
        let fixture = try Fixtures.standard("origin-relay")
        let hubPort = URL(string: hub.url)!.port!
        let relayed = "\(fault.url)/relay/\(hubPort)/\(fixture.name).git"
        var mark = fault.logSize
        let cloned = Shell.msgit(["clone", relayed, Paths.scratch("origin-relay") + "/repo"], env: hub.env)
        #expect(cloned.status != 0, "\(cloned.output)")
        #expect(fault.requests(since: mark).contains { $0.method == "GET" && $0.authorization == tokenHeader })
        expectNothingReachedAnotherOrigin(since: mark, about: fixture.name, "clone")

        let dir = Paths.scratch("origin-relay-push") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")
        try Git.run(["remote", "set-url", "origin", relayed], in: dir)
        mark = fault.logSize
        let pushed = Shell.msgit(["-C", dir, "push"], env: hub.env)
        #expect(pushed.status != 0, "\(pushed.output)")
        expectNothingReachedAnotherOrigin(since: mark, about: fixture.name, "push")
    }
}

/// Issue 23, class 8: tokens and plain http. An upgrade from http to https on the same host keeps
/// the credential (and the token never crosses in clear); a token for another host goes over
/// plain http only after a warning, printed before the work whatever its outcome.
@Suite struct PlainHTTPTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    @Test(.enabled(if: FaultServer.shared.https443 != nil, "the fault server needs port 443 of localhost (root)"))
    func anUpgradeToHTTPSOnTheSameHostKeepsTheCredential() throws {
        let fixture = try Fixtures.standard("upgrade")
        let hubPort = URL(string: hub.url)!.port!
        let url = "http://localhost:\(fault.port)/upgrade/proxy/\(hubPort)/\(fixture.name).git"
        let mark = fault.logSize
        let dir = Paths.scratch("upgrade") + "/repo"
        let result = Shell.msgit(["clone", url, dir], env: hub.env.merging(fault.trust) { $1 })
        #expect(result.status == 0, "\(result.output)")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == Git.run(["rev-parse", "HEAD"], in: fixture.worktree))
        let requests = fault.requests(since: mark).filter { $0.path.contains(fixture.name) }
        #expect(requests.contains { $0.port == 443 && $0.authorization != nil }, "https got the token: \(requests)")
        #expect(requests.filter { $0.port == fault.port }.allSatisfy { $0.authorization == nil }, "never in clear: \(requests)")
    }

    @Test(.enabled(if: DualStack.available, "needs /etc/hosts to give msgit-dualstack.test ::1, then 127.0.0.1 (.ci/setup)"))
    func aTokenOverPlainHTTPToAnotherHostIsWarnedAbout() throws {
        let fixture = try Fixtures.standard("plainhttp")
        let named = fixture.url.replacingOccurrences(of: "127.0.0.1", with: "msgit-dualstack.test")
        let warned = Shell.msgit(["clone", named, Paths.scratch("plainhttp") + "/repo"], env: hub.env)
        #expect(warned.status == 0, "\(warned.output)")
        #expect(warned.stderr.contains("warning: the token from MSGIT_TOKEN goes to msgit-dualstack.test over plain http"),
                "\(warned.stderr)")
        // On loopback plain http crosses no network: nothing to say.
        let loopback = Shell.msgit(["clone", fixture.url, Paths.scratch("plainhttp") + "/repo"], env: hub.env)
        #expect(loopback.status == 0 && !loopback.stderr.contains("plain http"), "\(loopback.stderr)")
        // The warning comes before the work, whatever its outcome: here the repository is missing.
        let missing = Shell.msgit(["clone", named.replacingOccurrences(of: fixture.name, with: "test/none-such"),
                                   Paths.scratch("plainhttp") + "/repo"], env: hub.env)
        #expect(missing.status == 4, "\(missing.output)")
        #expect(missing.stderr.contains("over plain http"), "\(missing.stderr)")
        let inURL = Shell.msgit(["clone", fixture.url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.token)@")
            .replacingOccurrences(of: fixture.name, with: "test/none-such"), Paths.scratch("plainhttp") + "/repo"])
        #expect(inURL.status == 4 && inURL.stderr.contains("visible to other users"), "\(inURL.output)")
        #expect(!inURL.output.contains(hub.token))
    }
}
