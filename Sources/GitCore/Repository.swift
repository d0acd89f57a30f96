internal import CLibgit2
import Foundation

/// An open git repository (`git_repository`). Not thread-safe: use it on one thread at a time, as
/// libgit2 requires; msgit runs each operation on a thread of its own (`GitOperation.run`).
public final class Repository {
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) {
        _ = Libgit2.initialized
        self.pointer = pointer
    }

    deinit { git_repository_free(pointer) }

    /// `git init` (or `git init --bare`) at `directory`, which may already exist.
    public static func create(at directory: URL, bare: Bool, initialBranch: String? = nil) throws -> Repository {
        _ = Libgit2.initialized
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
                  "git_repository_init_options_init")
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        var handle: OpaquePointer?
        let rc = initialBranch.withOptionalCString { branch in
            options.initial_head = branch
            return git_repository_init_ext(&handle, directory.path, &options)
        }
        try check(rc, "git_repository_init_ext")
        return Repository(handle!)
    }

    /// Opens the repository containing `path` (its work tree or git directory, or a folder inside).
    public static func open(at path: URL) throws -> Repository {
        _ = Libgit2.initialized
        var handle: OpaquePointer?
        try check(git_repository_open_ext(&handle, path.path, 0, nil), "git_repository_open_ext")
        return Repository(handle!)
    }

    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }

    /// The `.git` directory (or the repository itself when bare).
    public var gitDirectory: URL {
        URL(fileURLWithPath: String(cString: git_repository_path(pointer)), isDirectory: true)
    }

    public var workingDirectory: URL? {
        git_repository_workdir(pointer).map { URL(fileURLWithPath: String(cString: $0), isDirectory: true) }
    }

    // MARK: References

    /// The object a reference (or a revision such as "HEAD") finally points to, or nil.
    public func resolve(_ name: String) -> ObjectID? {
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, pointer, name) == 0 else { return nil }
        return ObjectID(oid)
    }

    /// All references whose names match `glob` (e.g. "refs/remotes/origin/*"), with their targets
    /// (peeled through symbolic references).
    public func references(matching glob: String = "*") throws -> [(name: String, target: ObjectID)] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, pointer, glob), "git_reference_iterator_glob_new")
        defer { git_reference_iterator_free(iterator) }
        var result: [(String, ObjectID)] = []
        var ref: OpaquePointer?
        while git_reference_next(&ref, iterator) == 0 {
            defer { git_reference_free(ref) }
            let name = String(cString: git_reference_name(ref))
            var resolved: OpaquePointer?
            guard git_reference_resolve(&resolved, ref) == 0 else { continue }
            defer { git_reference_free(resolved) }
            if let target = git_reference_target(resolved) { result.append((name, ObjectID(target.pointee))) }
        }
        return result
    }

    public func createReference(_ name: String, target: ObjectID, force: Bool, message: String) throws {
        var oid = target.oid
        var ref: OpaquePointer?
        try check(git_reference_create(&ref, pointer, name, &oid, force ? 1 : 0, message), "git_reference_create")
        git_reference_free(ref)
    }

    public func createSymbolicReference(_ name: String, target: String, force: Bool, message: String) throws {
        var ref: OpaquePointer?
        try check(git_reference_symbolic_create(&ref, pointer, name, target, force ? 1 : 0, message),
                  "git_reference_symbolic_create")
        git_reference_free(ref)
    }

    public func deleteReference(_ name: String) throws {
        var ref: OpaquePointer?
        try check(git_reference_lookup(&ref, pointer, name), "git_reference_lookup")
        defer { git_reference_free(ref) }
        try check(git_reference_delete(ref), "git_reference_delete")
    }

    /// Points HEAD at `reference` (which need not exist yet: an unborn branch).
    public func setHead(_ reference: String) throws {
        try check(git_repository_set_head(pointer, reference), "git_repository_set_head")
    }

    public func setHeadDetached(_ target: ObjectID) throws {
        var oid = target.oid
        try check(git_repository_set_head_detached(pointer, &oid), "git_repository_set_head_detached")
    }

    /// The full name of the branch HEAD points to ("refs/heads/main"), even when it is unborn;
    /// nil when HEAD is detached.
    public var headReferenceName: String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, pointer, "HEAD") == 0 else { return nil }
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let target = git_reference_symbolic_target(ref) else {
            return nil
        }
        return String(cString: target)
    }

    /// The commit a revision expression names ("HEAD", "main~2", an id); nil if it names nothing.
    public func commit(for revision: String) -> ObjectID? {
        var object: OpaquePointer?
        guard git_revparse_single(&object, pointer, revision + "^{commit}") == 0 else { return nil }
        defer { git_object_free(object) }
        return ObjectID(git_object_id(object).pointee)
    }

    /// Whether the object database holds `id`.
    public func hasObject(_ id: ObjectID) -> Bool {
        var odb: OpaquePointer?
        guard git_repository_odb(&odb, pointer) == 0 else { return false }
        defer { git_odb_free(odb) }
        var oid = id.oid
        return git_odb_exists(odb, &oid) == 1
    }

    /// Whether `ancestor` is reachable from `descendant` (a fast-forward from one to the other).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) -> Bool {
        var a = ancestor.oid, d = descendant.oid
        return ancestor == descendant || git_graph_descendant_of(pointer, &d, &a) == 1
    }

    // MARK: Configuration

    public func setConfig(_ key: String, _ value: String) throws {
        try withConfig { config in
            try check(git_config_set_string(config, key, value), "git_config_set_string")
        }
    }

    public func config(_ key: String) -> String? {
        try? withConfig { config -> String? in
            var buf = git_buf()
            defer { git_buf_dispose(&buf) }
            guard git_config_get_string_buf(&buf, config, key) == 0, let ptr = buf.ptr else { return nil }
            return String(cString: ptr)
        }
    }

    private func withConfig<R>(_ body: (OpaquePointer?) throws -> R) throws -> R {
        var config: OpaquePointer?
        try check(git_repository_config(&config, pointer), "git_repository_config")
        defer { git_config_free(config) }
        return try body(config)
    }

    // MARK: Remotes

    public func remote(named name: String, callbacks: RemoteCallbacks = RemoteCallbacks(),
                       operation: GitOperation? = nil) throws -> Remote {
        var handle: OpaquePointer?
        try check(git_remote_lookup(&handle, pointer, name), "git_remote_lookup")
        return Remote(handle!, repository: self, context: CallbackContext(callbacks, operation: operation))
    }

    /// Adds a remote to the configuration. With `fetchRefspec` nil, no fetch refspec is written
    /// (as `git clone --bare` does).
    public func createRemote(named name: String, url: String, fetchRefspec: String?,
                             callbacks: RemoteCallbacks = RemoteCallbacks(), operation: GitOperation? = nil) throws -> Remote {
        var options = git_remote_create_options()
        try check(git_remote_create_options_init(&options, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION)),
                  "git_remote_create_options_init")
        options.repository = pointer
        options.name = UnsafePointer(strdup(name))
        defer { free(UnsafeMutablePointer(mutating: options.name)) }
        let fetchspec = fetchRefspec.map { strdup($0) }
        defer { free(fetchspec ?? nil) }
        if let fetchspec {
            options.fetchspec = UnsafePointer(fetchspec)
        } else {
            options.flags = GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue
        }
        var handle: OpaquePointer?
        try check(git_remote_create_with_opts(&handle, url, &options), "git_remote_create_with_opts")
        return Remote(handle!, repository: self, context: CallbackContext(callbacks, operation: operation))
    }

    /// A remote for `url` that is not written to the configuration (used for probing and pushing to
    /// URLs the user typed).
    public func anonymousRemote(url: String, callbacks: RemoteCallbacks = RemoteCallbacks(),
                                operation: GitOperation? = nil) throws -> Remote {
        var handle: OpaquePointer?
        try check(git_remote_create_anonymous(&handle, pointer, url), "git_remote_create_anonymous")
        return Remote(handle!, repository: self, context: CallbackContext(callbacks, operation: operation))
    }

    // MARK: Checkout

    /// Checks out HEAD into the work tree. `force` overwrites whatever is there (for a new clone,
    /// whose directory we just made); otherwise local changes are kept and conflicts are errors.
    ///
    /// `newWorkTree` says the work tree holds nothing yet, so HEAD's tree is its only source of
    /// `.gitattributes`: checkout then leaves libgit2's filters off when no attribute or setting
    /// can convert content (`checkoutMayConvertContent`), which writes the same bytes faster.
    public func checkoutHead(force: Bool, newWorkTree: Bool = false,
                             progress: ((_ completed: Int, _ total: Int) -> Void)? = nil) throws {
        final class Box { let progress: (Int, Int) -> Void; init(_ p: @escaping (Int, Int) -> Void) { progress = p } }
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = force ? GIT_CHECKOUT_FORCE.rawValue : GIT_CHECKOUT_SAFE.rawValue
        if newWorkTree, let head = commit(for: "HEAD"), !checkoutMayConvertContent(commit: head) {
            options.disable_filters = 1
        }
        let box = progress.map(Box.init)
        if let box {
            options.progress_payload = Unmanaged.passUnretained(box).toOpaque()
            options.progress_cb = { _, completed, total, payload in
                Unmanaged<Box>.fromOpaque(payload!).takeUnretainedValue().progress(Int(completed), Int(total))
            }
        }
        try withExtendedLifetime(box) {
            try check(git_checkout_head(pointer, &options), "git_checkout_head")
        }
    }
}

extension Optional where Wrapped == String {
    func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) throws -> R) rethrows -> R {
        switch self {
        case .some(let s): try s.withCString { try body($0) }
        case .none: try body(nil)
        }
    }
}
