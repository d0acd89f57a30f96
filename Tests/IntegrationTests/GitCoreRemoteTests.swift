import Foundation
import GitCore
import Testing

/// GitCore's `Remote` against the hub.
@Suite struct GitCoreRemoteTests {
    let hub = Hub.shared

    @Test func aRemoteUsedAgainAfterAFailedCallbackDoesNotRethrowTheOldError() throws {
        struct Refused: Error {}
        final class Calls: @unchecked Sendable {
            // @unchecked Sendable: used on the one thread that runs the libgit2 calls below.
            var count = 0
        }
        let fixture = try Fixtures.standard("reuse")
        let repository = try Repository.create(at: URL(fileURLWithPath: Paths.scratch("reuse") + "/repo.git"), bare: true)
        let calls = Calls()
        let token = hub.token
        var callbacks = RemoteCallbacks()
        callbacks.credentials = { _ in
            calls.count += 1
            if calls.count == 1 { throw Refused() }
            let url = URL(string: fixture.url)!
            return GitCredential(username: "oauth2", password: token,
                                 endpoint: .init(host: url.host!, port: url.port!))
        }
        let remote = try repository.anonymousRemote(url: fixture.url, callbacks: callbacks)
        #expect(throws: Refused.self) { try remote.connect(.fetch) }
        // The second call's callback answers; the first call's error is history.
        try remote.connect(.fetch)
        #expect(try remote.advertisedHeads().contains { $0.name == "refs/heads/master" })
        #expect(calls.count == 2)
    }
}
