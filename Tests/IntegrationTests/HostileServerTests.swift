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
