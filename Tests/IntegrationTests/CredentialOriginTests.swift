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

    /// Requests since `mark` that went anywhere but the fault server's first address and port.
    func elsewhere(since mark: UInt64) -> [FaultServer.Request] {
        fault.requests(since: mark).filter { $0.host != "127.0.0.1" || $0.port != fault.port }
    }

    /// No request to another origin carried the token, and none sent a body there.
    func expectNothingReachedAnotherOrigin(since mark: UInt64, _ label: String) {
        let other = elsewhere(since: mark)
        #expect(other.allSatisfy { $0.authorization == nil }, "\(label): \(other)")
        #expect(other.allSatisfy { $0.method != "POST" }, "\(label): a pack went elsewhere: \(other)")
    }

    @Test(arguments: ["auth-then-redirect-www", "auth-then-redirect-port"])
    func aRedirectAfterTheTokenWasAcceptedDoesNotTakeItAlong(scenario: String) throws {
        let mark = fault.logSize
        let result = Shell.msgit(["clone", "\(fault.url)/\(scenario)/ns/name.git", Paths.scratch("origin") + "/repo"],
                                 env: hub.env)
        #expect(result.status == 3, "\(result.output)")
        #expect(result.stderr.contains("msgit sends a token only to the host it was given for"), "\(result.stderr)")
        #expect(fault.requests(since: mark).contains { $0.authorization == tokenHeader }, "the origin got the token")
        expectNothingReachedAnotherOrigin(since: mark, scenario)
        #expect(!result.output.contains(hub.token))
    }

    @Test func aRedirectBeforeAnyTokenDoesNotGetOneLater() throws {
        // The first answer is a 302 with WWW-Authenticate to another host, which then asks for
        // credentials: libgit2 names the original URL to the callback, so only the stream knows.
        let mark = fault.logSize
        let result = Shell.msgit(["clone", "\(fault.url)/redirect-www/ns/name.git", Paths.scratch("origin") + "/repo"],
                                 env: hub.env)
        #expect(result.status == 3, "\(result.output)")
        #expect(elsewhere(since: mark).contains { $0.path.hasPrefix("/record/") }, "the redirect was followed")
        expectNothingReachedAnotherOrigin(since: mark, "redirect-www")
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
                expectNothingReachedAnotherOrigin(since: mark, "\(scenario) \(command)")
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
        expectNothingReachedAnotherOrigin(since: mark, "clone")

        let dir = Paths.scratch("origin-relay-push") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")
        try Git.run(["remote", "set-url", "origin", relayed], in: dir)
        mark = fault.logSize
        let pushed = Shell.msgit(["-C", dir, "push"], env: hub.env)
        #expect(pushed.status != 0, "\(pushed.output)")
        expectNothingReachedAnotherOrigin(since: mark, "push")
    }
}
