internal import CLibgit2

/// A reference as the remote advertises it.
public struct RemoteHead: Sendable, Equatable {
    public var name: String
    public var target: ObjectID
    /// For a symbolic reference such as HEAD, the reference it points to.
    public var symbolicTarget: String?
}

/// Which tags a fetch brings along.
public enum TagDownload: Sendable {
    /// Tags pointing at objects the fetch brings (git fetch's default).
    case auto
    /// Every tag (git clone's behaviour).
    case all
    case none

    var raw: git_remote_autotag_option_t {
        switch self {
        case .auto: GIT_REMOTE_DOWNLOAD_TAGS_AUTO
        case .all: GIT_REMOTE_DOWNLOAD_TAGS_ALL
        case .none: GIT_REMOTE_DOWNLOAD_TAGS_NONE
        }
    }
}

public struct FetchOutcome: Sendable {
    public var updates: [RefUpdate]
    public var progress: IndexerProgress
}

public struct PushOutcome: Sendable {
    /// References the server refused, with the reason it gave. libgit2 reports success even then.
    public var rejections: [RefRejection]
    public var updates: [RefUpdate]
}

/// A remote (`git_remote`) bound to the callbacks of one operation.
public final class Remote {
    let pointer: OpaquePointer
    // The remote must not outlive its repository.
    private let repository: Repository
    private let context: CallbackContext

    init(_ pointer: OpaquePointer, repository: Repository, context: CallbackContext) {
        self.pointer = pointer
        self.repository = repository
        self.context = context
    }

    deinit {
        git_remote_disconnect(pointer)
        git_remote_free(pointer)
    }

    public var name: String? { git_remote_name(pointer).map { String(cString: $0) } }
    public var url: String { String(cString: git_remote_url(pointer)) }

    public enum Direction { case fetch, push }

    /// Connects and reads the server's advertisement. Later `fetch` calls reuse the connection.
    public func connect(_ direction: Direction) throws {
        try context.perform("git_remote_connect") { callbacks in
            var callbacks = callbacks
            var proxy = Self.proxyOptions()
            return git_remote_connect(pointer, direction == .fetch ? GIT_DIRECTION_FETCH : GIT_DIRECTION_PUSH,
                                      &callbacks, &proxy, nil)
        }
    }

    public func disconnect() { git_remote_disconnect(pointer) }

    /// The references the server advertised (after `connect`).
    public func advertisedHeads() throws -> [RemoteHead] {
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check(git_remote_ls(&heads, &count, pointer), "git_remote_ls")
        return (0..<count).compactMap { i -> RemoteHead? in
            guard let head = heads?[i]?.pointee else { return nil }
            return RemoteHead(name: String(cString: head.name), target: ObjectID(head.oid),
                              symbolicTarget: head.symref_target.map { String(cString: $0) })
        }
    }

    /// Downloads what `refspecs` (or the configured ones) name and updates local references.
    public func fetch(refspecs: [String]? = nil, tags: TagDownload = .auto, prune: Bool = false,
                      reflogMessage: String? = nil) throws -> FetchOutcome {
        context.updates = []
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        options.download_tags = tags.raw
        options.prune = prune ? GIT_FETCH_PRUNE : GIT_FETCH_NO_PRUNE
        options.proxy_opts = Self.proxyOptions()
        try context.perform("git_remote_fetch") { callbacks in
            options.callbacks = callbacks
            return reflogMessage.withOptionalCString { message in
                if let refspecs {
                    return withStrArray(refspecs) { git_remote_fetch(pointer, $0, &options, message) }
                }
                return git_remote_fetch(pointer, nil, &options, message)
            }
        }
        var progress = IndexerProgress()
        if let stats = git_remote_stats(pointer)?.pointee {
            progress.totalObjects = Int(stats.total_objects)
            progress.receivedObjects = Int(stats.received_objects)
            progress.indexedObjects = Int(stats.indexed_objects)
            progress.localObjects = Int(stats.local_objects)
            progress.receivedBytes = UInt64(stats.received_bytes)
        }
        return FetchOutcome(updates: context.updates, progress: progress)
    }

    /// Pushes `refspecs`. Server-side rejections do not throw: they are in the outcome.
    public func push(refspecs: [String]) throws -> PushOutcome {
        context.rejections = []
        context.updates = []
        var options = git_push_options()
        try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        options.proxy_opts = Self.proxyOptions()
        try context.perform("git_remote_push") { callbacks in
            options.callbacks = callbacks
            return withStrArray(refspecs) { git_remote_push(pointer, $0, &options) }
        }
        return PushOutcome(rejections: context.rejections, updates: context.updates)
    }

    /// Proxies as git finds them (configuration, then the environment); libgit2 1.5.1 applies them
    /// to https URLs only.
    private static func proxyOptions() -> git_proxy_options {
        var proxy = git_proxy_options()
        git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
        proxy.type = GIT_PROXY_AUTO
        return proxy
    }
}
