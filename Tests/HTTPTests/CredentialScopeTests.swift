import Foundation
import Testing
@testable import HTTP
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct CredentialScopeTests {
    let hub = CredentialScope(origin: Origin(scheme: "https", host: "hub.example", port: nil), username: "oauth2",
                              password: "hub-secret")

    func header(_ request: URLRequest) -> String? { request.value(forHTTPHeaderField: "Authorization") }

    @Test func aCredentialGoesOnlyToItsOrigin() {
        var same = URLRequest(url: URL(string: "https://HUB.example:443/ns/r.git/info/lfs/objects/batch")!)
        hub.authorize(&same)
        #expect(header(same) == "Basic " + Data("oauth2:hub-secret".utf8).base64EncodedString())
        for other in ["https://cdn.example/o", "http://hub.example/o", "https://hub.example:8443/o"] {
            var request = URLRequest(url: URL(string: other)!)
            hub.authorize(&request)
            #expect(header(request) == nil, "\(other)")
            #expect(hub.basicCredential(for: URL(string: other)!) == nil, "\(other)")
        }
        #expect(hub.basicCredential(for: URL(string: "https://hub.example/x")!)?.password == "hub-secret")
    }

    @Test func anActionsOwnHeaderWins() {
        var request = URLRequest(url: URL(string: "https://hub.example/lfs/o")!)
        request.setValue("Bearer own", forHTTPHeaderField: "Authorization")
        hub.authorize(&request)
        #expect(header(request) == "Bearer own")
    }

    @Test func theSecretNeverShows() {
        #expect("\(hub)" == "a credential for https://hub.example:443")
        var dumped = ""
        dump(hub, to: &dumped)
        for text in [String(reflecting: hub), dumped] {
            #expect(!text.contains("hub-secret") && !text.contains("oauth2"), "\(text)")
        }
    }

    @Test func sameOriginRedirectsKeepHeaders() {
        var request = URLRequest(url: URL(string: "https://hub.example/a/b")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        let next = CredentialScope.redirected(request, from: URL(string: "https://hub.example:443/start")!)
        #expect(next?.value(forHTTPHeaderField: "Authorization") == "Basic x")
    }

    @Test func redirectsToAnotherOriginLoseEveryCredentialHeader() {
        var request = URLRequest(url: URL(string: "https://cdn.example/o")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        request.setValue("t", forHTTPHeaderField: "Private-Token")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Accept")
        let next = CredentialScope.redirected(request, from: URL(string: "https://hub.example/start")!)
        #expect(next != nil)
        #expect(next?.value(forHTTPHeaderField: "Authorization") == nil)
        #expect(next?.value(forHTTPHeaderField: "Private-Token") == nil)
        #expect(next?.value(forHTTPHeaderField: "Accept") == "application/octet-stream")
    }

    @Test func httpsNeverDropsToHTTP() {
        let request = URLRequest(url: URL(string: "http://hub.example/o")!)
        #expect(CredentialScope.redirected(request, from: URL(string: "https://hub.example/start")!) == nil)
        #expect(CredentialScope.redirected(request, from: URL(string: "http://other.example/start")!) != nil)
    }

    @Test func anUpgradeToHTTPSOnTheSameHostKeepsTheCredentialTheReverseNever() {
        let plain = CredentialScope(origin: Origin(scheme: "http", host: "hub.example", port: nil), username: "oauth2",
                                    password: "hub-secret")
        #expect(plain.admits(URL(string: "https://hub.example/ns/r.git/info/refs")!))
        #expect(!plain.admits(URL(string: "https://hub.example:8443/x")!), "another port is another service")
        #expect(!plain.admits(URL(string: "https://cdn.example/x")!))
        #expect(!hub.admits(URL(string: "http://hub.example/x")!), "https never drops to http")
        var request = URLRequest(url: URL(string: "https://hub.example/a")!)
        request.setValue("Basic x", forHTTPHeaderField: "Authorization")
        let next = CredentialScope.redirected(request, from: URL(string: "http://hub.example/a")!)
        #expect(next?.value(forHTTPHeaderField: "Authorization") == "Basic x")
    }

    @Test func portAndSchemeAreTheOrigin() {
        #expect(Origin(URL(string: "http://h/x")!) != Origin(URL(string: "https://h/x")!))
        #expect(Origin(URL(string: "http://h:8080/x")!) != Origin(URL(string: "http://h/x")!))
        #expect(Origin(URL(string: "http://H:80/x")!) == Origin(URL(string: "http://h/y")!))
    }
}
