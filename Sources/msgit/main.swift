import MSGitCommands

await MSGitCommand.runMain()
