import ArgumentParser
import Foundation
import MSGit

struct LFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lfs",
        abstract: "Git LFS without git-lfs.",
        subcommands: [LFSPullCommand.self, LFSLsFilesCommand.self, LFSFsckCommand.self, LFSPruneCommand.self,
                      LFSDiskUsageCommand.self, LFSUnprotectCommand.self])
}
