// Clones a repository through the MSGit library with a personal access token.
//
//     MSGIT_TOKEN=... swift run clone-with-token https://www.modelscope.cn/ns/name.git [directory]
//
// The token is sent as the password of the user `oauth2`, to the repository's host only.
import Foundation
import MSGit

let arguments = CommandLine.arguments.dropFirst()
guard let url = arguments.first else {
    FileHandle.standardError.write(Data("usage: clone-with-token <url> [directory]\n".utf8))
    exit(2)
}
let directory = arguments.dropFirst().first.map { URL(fileURLWithPath: $0, isDirectory: true) }

// Any CredentialProvider works: .token("..."), EnvironmentCredentials(variable:), ClosureCredentials { url in ... }.
let client = GitClient(credentials: EnvironmentCredentials(variable: "MSGIT_TOKEN"))

do {
    let result = try await client.clone(url, into: directory) { progress in
        if progress.phase == .receivingObjects, progress.totalObjects > 0 {
            print("\rreceiving \(progress.receivedObjects)/\(progress.totalObjects)", terminator: "")
        }
    }
    print("\ncloned \(result.url) at \(result.head ?? "(empty)") into \(result.directory.path)")
} catch {
    // `error` is an MSGitError: switch on error.kind; its description is safe to print and log.
    switch error.kind {
    case .authenticationRequired, .authenticationRejected:
        print("authentication: \(error)")
    case .notFound:
        print("no such repository: \(error)")
    default:
        print("clone failed: \(error)")
    }
    exit(1)
}
