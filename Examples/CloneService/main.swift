// A service's skeleton: one GitClient for the process, many clones at once, each with a deadline.
//
//     MSGIT_TOKEN=... swift run clone-service [--deadline SECONDS] <directory> <url>...
//
// Every repository is cloned into <directory>, named as git names it. A clone still running at its
// deadline (default 30 minutes) is cancelled: its own requests stop, the other clones go on, and
// the directory it made is removed.
import Foundation
import MSGit

/// How one job ended.
enum Outcome: Sendable {
    case cloned(CloneResult)
    case failed(MSGitError)
    case timedOut
}

/// Clones `url` unless `deadline` passes first: the clone races a sleep in a task group, and
/// whichever ends first cancels the other. The group returns once the loser has ended, so a
/// cancelled clone has removed its directory by then.
func clone(_ url: String, with client: GitClient, deadline: Duration) async -> Outcome {
    await withTaskGroup(of: Outcome.self) { group in
        group.addTask {
            do throws(MSGitError) {
                // Told of every LFS file, on a task of its own: a slow handler never stalls a download.
                let result = try await client.clone(url, events: { event in
                    switch event.kind {
                    case .done, .failed: print("\(url): \(event)")
                    default: break
                    }
                })
                return .cloned(result)
            } catch {
                return .failed(error)
            }
        }
        group.addTask {
            try? await Task.sleep(for: deadline)
            return .timedOut
        }
        let first = await group.next()!
        group.cancelAll()
        return first
    }
}

/// One line per job.
func summary(_ url: String, _ outcome: Outcome, deadline: Duration) -> String {
    switch outcome {
    case .cloned(let result):
        let lfs = result.lfs
        return "cloned \(result.url) at \(result.head ?? "(empty)") into \(result.directory.path) in \(result.duration): "
            + "\(lfs.filesResolved) of \(lfs.files) LFS files resolved, \(lfs.failures.count) left as pointers"
    case .failed(let error):
        // Switch on `error.kind` to act on it; `error.description` is safe to log (no token).
        return "failed \(url) (\(error.kind)): \(error.message)"
    case .timedOut:
        return "failed \(url) (timeout): not done within \(deadline)"
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
var seconds = 1800
if arguments.first == "--deadline", arguments.count > 1, let given = Int(arguments[1]), given > 0 {
    seconds = given
    arguments.removeFirst(2)
}
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: clone-service [--deadline SECONDS] <directory> <url>...\n".utf8))
    exit(2)
}
let deadline = Duration.seconds(seconds)
let directory = URL(fileURLWithPath: arguments[0], isDirectory: true)
let urls = arguments.dropFirst()
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
// Clones without a directory of their own are named after their URL, as git names them, and the
// library refuses a name that would leave the current directory.
guard FileManager.default.changeCurrentDirectoryPath(directory.path) else {
    FileHandle.standardError.write(Data("clone-service: cannot enter \(directory.path)\n".utf8))
    exit(1)
}

// One client for the process: its clones share connections, per-host limits and a memory budget.
let client = GitClient(credentials: EnvironmentCredentials(variable: "MSGIT_TOKEN"))

let failures = await withTaskGroup(of: (String, Outcome).self) { group in
    for url in urls {
        group.addTask { (url, await clone(url, with: client, deadline: deadline)) }
    }
    var failures = 0
    for await (url, outcome) in group {
        print(summary(url, outcome, deadline: deadline))
        if case .cloned = outcome {} else { failures += 1 }
    }
    return failures
}

// Ends whatever is still running and closes the connections; a service calls it when it stops.
client.shutdown()
exit(failures == 0 ? 0 : 1)
