import Foundation

extension WorkTreeFill {
    /// What `run` would do, read without a request and without writing anything: each file's
    /// action, the objects and bytes to download, and the room that needs beside what is free.
    public struct Preview: Sendable {
        /// What the fill would do with one file.
        public enum Action: Sendable, Equatable {
            /// Its object is downloaded, then the file written.
            case download
            /// Its object is here (this repository's store or the shared one): only the file is written.
            case fromStore
            /// The work tree holds its content already.
            case present
            /// The work tree holds something else there (a change of the user's): left alone.
            case leftAlone
            /// msgit will not write it; the reason says why (a link in its path, an LFS extension).
            case refused(String)
        }

        /// One LFS file of the preview and what would happen to it.
        public struct File: Sendable, Equatable {
            /// The file's path in the repository.
            public var path: String
            /// The SHA-256 of its object.
            public var oid: String
            /// Its object's size in bytes.
            public var size: Int64
            /// What the fill would do with it.
            public var action: Action
            /// A file with every field given.
            public init(path: String, oid: String, size: Int64, action: Action) {
                self.path = path
                self.oid = oid
                self.size = size
                self.action = action
            }
        }

        /// The LFS files in scope, sorted by path.
        public var files: [File] = []
        /// The LFS files the include/exclude patterns leave out.
        public var excluded: [String] = []
        /// Distinct objects to download: an object of several files counts once.
        public var objectsToDownload = 0
        /// The sizes of those objects, added up.
        public var bytesToDownload: Int64 = 0
        /// Bytes the fill would take on disk at most: downloaded objects, and the work-tree copies
        /// of every file written (none with `link`; a file system that clones takes less).
        public var bytesNeeded: Int64 = 0
        /// Free bytes on the file system of the repository's store, if known.
        public var bytesAvailable: Int64?
        /// An empty preview: nothing to do, and the room unknown.
        public init() {}

        /// Whether `bytesNeeded` fits in what is free (true when that is unknown).
        public var fits: Bool { bytesAvailable.map { $0 >= bytesNeeded } ?? true }
    }

    /// What `run` would do. `checkedOut`: the work tree holds the files already (false for a
    /// clone's, which does not exist yet: every file is to be written).
    public func preview(checkedOut: Bool = true) -> Preview {
        var preview = Preview()
        preview.excluded = excludedPaths.sorted()
        let store = ObjectStore(gitDirectory: gitDirectory)
        let shared = options.sharedStore.map { ObjectStore(root: $0) }
        let workTree = WorkTree(root: root, store: store, placement: options.link ? .hardLink : .copy)
        var downloads: Set<String> = []
        var bytesWritten: Int64 = 0
        for file in files.sorted(by: { $0.path < $1.path }) {
            let pointer = file.pointer
            var action: Preview.Action
            if let extensionKey = pointer.extensions.first?.key {
                action = .refused("it uses the LFS extension \(extensionKey), which msgit does not run")
            } else {
                switch checkedOut ? workTree.state(of: file) : .pointer {
                case .pointer:
                    action = store.contains(pointer) || shared?.contains(pointer) == true ? .fromStore : .download
                case .resolved: action = .present
                case .other: action = .leftAlone
                case .unsafe(let reason): action = .refused(reason)
                }
            }
            if action == .download, downloads.insert(pointer.oid).inserted {
                preview.objectsToDownload += 1
                preview.bytesToDownload = preview.bytesToDownload.saturatingAdd(pointer.size)
            }
            if action == .download || action == .fromStore { bytesWritten = bytesWritten.saturatingAdd(pointer.size) }
            preview.files.append(Preview.File(path: file.path, oid: pointer.oid, size: pointer.size, action: action))
        }
        preview.bytesNeeded = preview.bytesToDownload.saturatingAdd(options.link ? 0 : bytesWritten)
        preview.bytesAvailable = Self.Preview.bytesAvailable(near: gitDirectory)
        return preview
    }
}

extension WorkTreeFill.Preview {
    /// Free bytes on the file system that holds `url` (or its nearest existing parent), if known.
    public static func bytesAvailable(near url: URL) -> Int64? {
        var st = stat()
        return SpaceGuard.existingAncestor(url.path, &st).flatMap(SpaceGuard.freeBytes)
    }
}
