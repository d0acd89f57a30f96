import Foundation
import Testing
@testable import Credentials
@testable import MSGit

/// git's credential helpers among msgit's other sources.
@Suite struct StandardCredentialHelperTests {
    let url = try! RemoteURL("https://www.modelscope.cn/ns/repo.git")

    @Test func helpersComeAfterTheModelScopeFileAndBeforeTheStoreFiles() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) h\n")
        try world.answer("h", "username=u\npassword=from-helper\n")
        try world.dir.write(".git-credentials", "https://oauth2:from-store@www.modelscope.cn\n")
        func token(_ extra: [String: String] = [:]) throws -> String? {
            var environment = world.environment
            environment.merge(extra) { $1 }
            return try StandardCredentials(environment: environment, home: world.dir.url).credential(for: url)?.token
        }
        #expect(try token(["MSGIT_TOKEN": "from-env"]) == "from-env")
        try world.dir.write(".modelscope/credentials/git_token", "from-modelscope")
        #expect(try token() == "from-modelscope")
        try FileManager.default.removeItem(atPath: world.dir.path(".modelscope"))
        #expect(try token() == "from-helper")
        try world.answer("h", nil)
        #expect(try token() == "from-store")
    }

    @Test func aFailingHelperDoesNotHideTheStoreFileButIsReportedWhenNothingIsFound() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \"!exit 7\"\n")
        try world.dir.write(".netrc", "machine www.modelscope.cn login oauth2 password from-netrc\n")
        let standard = StandardCredentials(environment: world.environment, home: world.dir.url)
        #expect(try standard.credential(for: url)?.token == "from-netrc")
        try FileManager.default.removeItem(atPath: world.dir.path(".netrc"))
        #expect {
            _ = try standard.credential(for: url)
        } throws: { error in
            "\(error)".contains("credential helper '!exit 7' failed with exit status 7")
        }
    }

    @Test func approveAndRejectReachTheHelpers() throws {
        let world = try HelperWorld()
        try world.config("[credential]\n\thelper = \(world.logHelper) h\n")
        try world.answer("h", "username=u\npassword=rotating-token\n")
        let standard = StandardCredentials(environment: world.environment, home: world.dir.url)
        let credential = try #require(try standard.credential(for: url))
        #expect(credential.source == "git credential helper '\(world.logHelper) h'")
        world.clearLog()
        try standard.approve(credential, for: url)
        try standard.reject(credential, for: url)
        #expect(world.log.contains("h store\n") && world.log.contains("h erase\n"))
        #expect(StandardCredentials.sourcesHelp.contains("git's credential helpers"))
    }
}
