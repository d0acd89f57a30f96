import MSGit

/// git-like lines for reference updates: "abc1234..def5678  refs/remotes/origin/main".
enum RefUpdateFormat {
    static func line(_ change: ReferenceChange) -> String {
        switch (change.old.map { $0.prefix(7) }, change.new.map { $0.prefix(7) }) {
        case (nil, _): "* [new]             \(change.reference)"
        case (_, nil): "- [deleted]         \(change.reference)"
        case let (old?, new?): "\(old)..\(new)  \(change.reference)"
        }
    }
}
