import Foundation
import Testing

/// Issue 23, classes 4 and 6 on the git side: what a server says can neither crash msgit nor
/// hold it forever. Each scenario comes from the fault server, over plain http and over https
/// (msgit's own TLS stream, which sees the plaintext libgit2 reads).
@Suite struct HostileServerTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    /// The fault server's two faces: plain http, and https with its self-signed certificate.
    func bases() -> [(url: String, env: [String: String])] {
        [(fault.url, hub.env), (fault.tls_url, hub.env.merging(fault.trust) { $1 })]
    }

    @Test func wwwAuthenticateOnAnAnswerThatIsNotA401CrashesNothing() throws {
        // libgit2 1.5.1 keeps the challenges of any answer and, on its next request without a
        // credential, dereferences the credential it does not have: SIGSEGV (exit 139).
        for (base, env) in bases() {
            let result = Shell.msgit(["clone", "\(base)/www-on-200/ns/name.git", Paths.scratch("www") + "/repo"], env: env,
                                     limit: .seconds(120))
            #expect(result.status == 1, "\(base): \(result.output)")
            #expect(!result.stderr.isEmpty)
        }
        // The same as a redirect's challenge, before any credential was asked for.
        let redirected = Shell.msgit(["clone", "\(fault.url)/redirect-www/ns/name.git", Paths.scratch("www") + "/repo"],
                                     env: hub.env, limit: .seconds(120))
        #expect(redirected.status == 3, "\(redirected.output)")
    }

    @Test func aServerThatTricklesItsHeadersIsGivenUp() throws {
        // One header byte a second resets any idle limit; the headers' own limit ends it.
        for (base, env) in bases() {
            let result = Shell.msgit(["clone", "--timeout", "3", "\(base)/trickle-headers/ns/name.git",
                                      Paths.scratch("trickle") + "/repo"], env: env, limit: .seconds(120))
            #expect(result.status == 1, "\(base): \(result.output)")
            #expect(result.stderr.contains("did not send a whole response's headers within 3 s"), "\(base): \(result.stderr)")
            #expect(result.stderr.contains("--timeout"), "\(result.stderr)")
        }
    }

    @Test func aServerThatTricklesItsBodyIsGivenUp() throws {
        // One body byte a second: under the low-speed limit (16 bytes a second over a stretch of
        // the idle limit).
        for (base, env) in bases() {
            let result = Shell.msgit(["clone", "--timeout", "3", "\(base)/trickle-body/ns/name.git",
                                      Paths.scratch("trickle") + "/repo"], env: env, limit: .seconds(120))
            #expect(result.status == 1, "\(base): \(result.output)")
            #expect(result.stderr.contains("is too slow"), "\(base): \(result.stderr)")
        }
    }
}

extension HostileServerTests {
    @Test(arguments: [
        ("trickle-headers", "no whole response headers within 3 s"),  // the batch API's headers, a byte a second
        ("lfs/trickle", "fewer than 16 bytes a second"),              // the object's body, a byte a second
    ])
    func lfsConnectionsThatTrickleAreGivenUp(path: String, reason: String) throws {
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/\(path)/x.git/info/lfs")
        let result = Shell.msgit(["clone", "--timeout", "3", repo.url, Paths.scratch("trickle-lfs") + "/repo"], env: hub.env,
                                 limit: .seconds(120))
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
    }

    @Test func aSlowButSteadyDownloadIsNotTakenForAStall() throws {
        // 200,000 bytes at 50 KB/s: one request of 4 s against a 2 s idle limit, never idle.
        // FoundationNetworking never counts a data task's bytes received, and the watchdog that
        // read that count cancelled every such request as stalled. (The content is not the
        // object's: the download must end in an integrity failure, not a timeout.)
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/slowbody/x.git/info/lfs")
        let result = Shell.msgit(["clone", "--timeout", "2", repo.url, Paths.scratch("slowbody") + "/repo"], env: hub.env,
                                 limit: .seconds(120))
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains("does not match its pointer"), "\(result.stderr)")
        #expect(!result.stderr.contains("timed out"), "\(result.stderr)")
    }
}

/// Issue 23, class 5: memory is bounded against any server. A body msgit reads whole (a batch
/// answer) is bounded as it arrives; FoundationNetworking had read a 1 GiB answer into memory
/// (1.1-2.2 GB) before msgit's 64 MiB cap was looked at.
@Suite struct HostileBodyTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    @Test(arguments: ["huge-1024", "hugechunked-1024"])
    func aGiantBatchAnswerIsRefusedWithoutBeingRead(scenario: String) throws {
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/\(scenario)/x.git/info/lfs")
        let result = Shell.msgit(["clone", repo.url, Paths.scratch("huge") + "/repo"], env: hub.env, limit: .seconds(300),
                                 measuringMemory: true)
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains("larger than the 67108864 bytes allowed"), "\(result.stderr)")
        // The cap, libcurl's buffers and msgit itself: nowhere near the 1 GiB sent.
        #expect(result.maxResidentKiB > 0 && result.maxResidentKiB < 250 << 10, "peak RSS \(result.maxResidentKiB) KiB")
    }
}
