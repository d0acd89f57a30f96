// The service scenario of bench.py (13, 14): one process, one GitClient, every clone at once.
//
//     MSGIT_TOKEN=... msgit-service-bench <directory> <url>...
//
// Clone i goes to <directory>/<i>, so one URL may be given many times. Prints one JSON line:
// {"clones": n, "failed": m, "lfs_files": f, "seconds": t} and exits 1 if any clone failed.
import Foundation
import MSGit

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: msgit-service-bench <directory> <url>...\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[0], isDirectory: true)
let urls = Array(arguments.dropFirst())
let client = GitClient(credentials: EnvironmentCredentials(variable: "MSGIT_TOKEN"), writeCredentials: nil)
let start = ContinuousClock.now
let (failed, files) = await withTaskGroup(of: Result<Int, MSGitError>.self) { group in
    for (index, url) in urls.enumerated() {
        group.addTask {
            do throws(MSGitError) {
                let result = try await client.clone(url, into: root.appendingPathComponent("\(index)"))
                try result.requireCompleteLFS()
                return .success(result.lfs.filesResolved)
            } catch {
                return .failure(error)
            }
        }
    }
    var failed = 0, files = 0
    for await outcome in group {
        switch outcome {
        case .success(let resolved): files += resolved
        case .failure(let error):
            failed += 1
            FileHandle.standardError.write(Data("\(error.kind): \(error.message)\n".utf8))
        }
    }
    return (failed, files)
}
let elapsed = ContinuousClock.now - start
client.shutdown()
print("{\"clones\": \(urls.count), \"failed\": \(failed), \"lfs_files\": \(files), \"seconds\": \(elapsed.components.seconds)}")
exit(failed == 0 ? 0 : 1)
