import ArgumentParser
import Foundation
import MSGit

/// msgit's exit codes.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 2
    public static let authentication: Int32 = 3
    public static let notFound: Int32 = 4
    public static let lfsIncomplete: Int32 = 5
    /// Interrupted (Ctrl-C, SIGTERM), as shells report a SIGINT.
    public static let interrupted: Int32 = 130

    public static func code(for error: MSGitError) -> Int32 {
        switch error.kind {
        case .invalidArgument: usage
        case .authenticationRequired, .authenticationRejected: authentication
        case .notFound: notFound
        case .lfsIncomplete: lfsIncomplete
        case .cancelled: interrupted
        default: failure
        }
    }
}
