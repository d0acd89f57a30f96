import Foundation
import GitCore
import Logging
import Synchronization
import Testing
@testable import Credentials
@testable import MSGit

@Suite struct CredentialPurposeTests {
    /// A provider that says which of its methods answered.
    struct Labelled: CredentialProvider {
        let label: String
        func credential(for url: RemoteURL) -> Credential? { Credential(token: "\(label)-token", source: label) }
        func credential(forSecondaryOrigin url: RemoteURL) -> Credential? {
            Credential(token: "\(label)-stored-token", source: "\(label) store")
        }
    }

    func source(_ purpose: CredentialPurpose, write: (any CredentialProvider)?) throws -> String? {
        let client = GitClient(credentials: Labelled(label: "read"), writeCredentials: write)
        let scope = SecretScope()
        defer { scope.end() }
        return try CredentialResolution(url: RemoteURL("https://target.example/ns/name.git"), client: client,
                                        purpose: purpose, secrets: scope).credential?.source
    }

    @Test func eachPurposeTakesItsOwnSource() throws {
        let write = Labelled(label: "write")
        #expect(try source(.read, write: write) == "read")
        #expect(try source(.write, write: write) == "write")
        #expect(try source(.write, write: nil) == "read", "a push falls back to the read token")
        #expect(try source(.mirrorTarget, write: write) == "write")
        #expect(try source(.mirrorTarget, write: nil) == "read store", "a mirror target: only what is stored for its host")
        #expect(try source(.write, write: StandardWriteCredentials(environment: [:])) == "read")
        #expect(try source(.write, write: StandardWriteCredentials(environment: ["MSGIT_PUSH_TOKEN": "w"])) == "MSGIT_PUSH_TOKEN")
    }

    @Test func theLibraryDefaultsAreTheCommandLinesSources() {
        let client = GitClient()
        #expect(client.credentials is StandardCredentials)
        #expect(client.writeCredentials is StandardWriteCredentials)
    }
}
