import ArgumentParser
import Foundation
import GitCore
import MSGit

/// git-like lines for reference updates: "abc1234..def5678  refs/remotes/origin/main".
enum RefUpdateFormat {
    static func line(_ update: RefUpdate) -> String {
        let old = update.old.flatMap { $0.isZero ? nil : String($0.hex.prefix(7)) }
        let new = update.new.flatMap { $0.isZero ? nil : String($0.hex.prefix(7)) }
        switch (old, new) {
        case (nil, _): return "* [new]             \(update.reference)"
        case (_, nil): return "- [deleted]         \(update.reference)"
        case let (old?, new?): return "\(old)..\(new)  \(update.reference)"
        }
    }
}
