import ArgumentParser
import MSGit

/// A size as people write it on a command line: `1048576`, `500KB`, `10MiB`, `1.5GB` (`ByteSize`).
struct Size: ExpressibleByArgument, Equatable, CustomStringConvertible {
    var bytes: Int64
    var description: String

    init(bytes: Int64, description: String) {
        self.bytes = bytes
        self.description = description
    }

    init?(argument: String) {
        guard let bytes = ByteSize.parse(argument) else { return nil }
        self.bytes = bytes
        description = argument
    }
}
