import Foundation
import GitCore
import Logging
import Synchronization
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct GitErrorClassificationTests {
    func kind(_ domain: GitError.Domain, _ message: String) -> MSGitError.Kind {
        MSGitError.from(gitError: GitError(code: .genericError, domain: domain, message: message, function: "f"), url: nil).kind
    }

    @Test func protocolErrorsComeFromTheNetworkAndHTTPClassesOnly() {
        #expect(kind(.http, "invalid content-type: 'text/html'") == .protocolError)
        #expect(kind(.net, "invalid packet line") == .protocolError)
        #expect(kind(.net, "malformed URL") == .protocolError)
        #expect(kind(.os, "could not read pkt-line cache file") == .io)
        #expect(kind(.reference, "malformed reference name 'a..b'") == .git)
    }
}
