import Foundation
import Testing
@testable import LFS

@Suite struct EndpointTests {
    @Test func derivedFromTheRemoteURL() {
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name.git")?.absoluteString == "https://hub/ns/name.git/info/lfs")
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name")?.absoluteString == "https://hub/ns/name.git/info/lfs")
        #expect(Endpoint.resolve(remoteURL: "https://hub/ns/name/")?.absoluteString == "https://hub/ns/name.git/info/lfs")
    }

    @Test func configurationWinsOverLfsconfigWhichWinsOverTheRemote() {
        let lfsconfig = "[lfs]\n\turl = \"https://lfs.example/from-file\" # comment\n"
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", lfsconfig: lfsconfig)?.absoluteString
            == "https://lfs.example/from-file")
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", config: ["lfs.url": "https://lfs.example/git"],
                                 lfsconfig: lfsconfig)?.absoluteString == "https://lfs.example/git")
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", remoteName: "upstream",
                                 config: ["remote.upstream.lfsurl": "https://lfs.example/r"])?.absoluteString
            == "https://lfs.example/r")
        let remoteSection = "[remote \"origin\"]\n  lfsurl = https://lfs.example/o\n"
        #expect(Endpoint.resolve(remoteURL: "https://hub/a.git", lfsconfig: remoteSection)?.absoluteString
            == "https://lfs.example/o")
    }
}
