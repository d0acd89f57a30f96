import Foundation
import HTTP
import Testing
@testable import LFS
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct ActionRequestTests {
    let endpoint = URL(string: "https://hub.example/ns/r.git/info/lfs")!
    let scope = CredentialScope(origin: Origin(scheme: "https", host: "hub.example", port: nil), username: "oauth2",
                                password: "hub")

    func make(_ href: String, _ header: [String: String]? = nil) throws -> URLRequest {
        try ActionRequest.make(BatchObject.Action(href: href, header: header, expiresIn: nil, expiresAt: nil), method: "GET",
                               endpoint: endpoint, scope: scope)
    }

    @Test func anHTTPSEndpointsHTTPHrefIsRefused() {
        #expect {
            _ = try make("http://cdn.example/o")
        } throws: { ($0 as? LFSError)?.kind == .insecure && "\($0)".contains("would drop to plain http") }
    }

    @Test func storageGetsItsActionsHeadersAndNeverTheHubsCredential() throws {
        let storage = try make("https://cdn.example/o?sig=x", ["X-Sig": "1"])
        #expect(storage.value(forHTTPHeaderField: "Authorization") == nil && storage.value(forHTTPHeaderField: "X-Sig") == "1")
        let onHub = try make("https://hub.example/lfs/o")
        #expect(onHub.value(forHTTPHeaderField: "Authorization")?.hasPrefix("Basic ") == true)
        let withOwn = try make("https://hub.example/lfs/o", ["Authorization": "Bearer own"])
        #expect(withOwn.value(forHTTPHeaderField: "Authorization") == "Bearer own")
        #expect(withOwn.value(forHTTPHeaderField: "User-Agent") == UserAgent.lfs)
    }

    @Test func unusableHrefsAreProtocolErrors() {
        for href in ["ftp://cdn.example/o", "not a url", "/relative/path"] {
            #expect { _ = try make(href) } throws: { ($0 as? LFSError)?.kind == .protocolError }
        }
    }
}
