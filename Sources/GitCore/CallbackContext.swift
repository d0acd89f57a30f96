internal import CLibgit2

/// Everything a libgit2 callback needs, reached through the `payload` pointer.
///
/// One per remote operation, kept alive by `withExtendedLifetime` for the duration of the C call
/// and passed unretained, so no callback ever owns or releases it.
final class CallbackContext {
    let callbacks: RemoteCallbacks
    let operation: GitOperation?
    var credentialAttempts = 0
    /// The first Swift error a callback hit; rethrown in place of libgit2's error.
    var error: (any Error)?
    var rejections: [RefRejection] = []
    var updates: [RefUpdate] = []
    /// Side-band text not yet ending in a line break. libgit2 hands the side band over packet by
    /// packet, and a packet may end in the middle of a line (or of a token a hook echoes); lines
    /// are passed on whole, so that whoever redacts them sees each one entire.
    var serverText = ServerLines()

    init(_ callbacks: RemoteCallbacks, operation: GitOperation?) {
        self.callbacks = callbacks
        self.operation = operation
    }

    static func from(_ payload: UnsafeMutableRawPointer?) -> CallbackContext {
        Unmanaged<CallbackContext>.fromOpaque(payload!).takeUnretainedValue()
    }

    /// Records `error` (the first one wins), tells libgit2 what happened, and returns the code that
    /// makes libgit2 stop.
    func fail(_ error: any Error, message: String) -> Int32 {
        if self.error == nil { self.error = error }
        git_error_set_str(Int32(GIT_ERROR_CALLBACK.rawValue), message)
        return GIT_EUSER.rawValue
    }

    /// Non-zero once the operation was cancelled; libgit2 stops when a progress callback says so.
    func checkCancelled() -> Int32 {
        guard let operation, operation.isCancelled else { return 0 }
        return fail(CancellationError(), message: "operation cancelled")
    }

    /// Runs `call` with `git_remote_callbacks` pointing at this context, then rethrows the error a
    /// callback stored during this call, if any, in preference to libgit2's. A remote is reused
    /// for several calls (connect, then fetch), so the error of an earlier call is forgotten first.
    func perform(_ function: String, _ call: (git_remote_callbacks) -> Int32) throws {
        error = nil
        try withExtendedLifetime(self) {
            let rc = call(makeCallbacks())
            if let rest = serverText.finish(), let handler = callbacks.serverMessage { handler(rest) }
            if let error { throw error }
            try check(rc, function)
        }
    }

    func makeCallbacks() -> git_remote_callbacks {
        var cb = git_remote_callbacks()
        git_remote_init_callbacks(&cb, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        cb.payload = Unmanaged.passUnretained(self).toOpaque()
        cb.credentials = credentialsCallback
        cb.transfer_progress = { stats, payload in
            let ctx = CallbackContext.from(payload)
            if let stats, let handler = ctx.callbacks.transferProgress {
                var p = IndexerProgress()
                p.totalObjects = Int(stats.pointee.total_objects)
                p.receivedObjects = Int(stats.pointee.received_objects)
                p.indexedObjects = Int(stats.pointee.indexed_objects)
                p.localObjects = Int(stats.pointee.local_objects)
                p.totalDeltas = Int(stats.pointee.total_deltas)
                p.indexedDeltas = Int(stats.pointee.indexed_deltas)
                p.receivedBytes = UInt64(stats.pointee.received_bytes)
                handler(p)
            }
            return ctx.checkCancelled()
        }
        cb.sideband_progress = { text, length, payload in
            let ctx = CallbackContext.from(payload)
            if let text, length > 0, let handler = ctx.callbacks.serverMessage {
                let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
                for line in ctx.serverText.append(bytes) { handler(line) }
            }
            return ctx.checkCancelled()
        }
        cb.push_transfer_progress = { current, total, bytes, payload in
            let ctx = CallbackContext.from(payload)
            ctx.callbacks.pushTransferProgress?(
                PushTransferProgress(current: Int(current), total: Int(total), bytes: UInt64(bytes)))
            return ctx.checkCancelled()
        }
        cb.push_update_reference = { refname, status, payload in
            // libgit2 reports a server-side rejection here and still returns 0 from the push.
            let ctx = CallbackContext.from(payload)
            if let status, let refname {
                ctx.rejections.append(RefRejection(reference: String(cString: refname), reason: String(cString: status)))
            }
            return 0
        }
        cb.update_tips = { refname, old, new, payload in
            let ctx = CallbackContext.from(payload)
            if let refname {
                ctx.updates.append(RefUpdate(
                    reference: String(cString: refname),
                    old: old.flatMap { ObjectID($0.pointee) },
                    new: new.flatMap { ObjectID($0.pointee) }))
            }
            return 0
        }
        return cb
    }
}

private func credentialsCallback(
    out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?,
    url: UnsafePointer<CChar>?,
    usernameFromURL: UnsafePointer<CChar>?,
    allowedTypes: UInt32,
    payload: UnsafeMutableRawPointer?
) -> Int32 {
    let ctx = CallbackContext.from(payload)
    guard let provide = ctx.callbacks.credentials else {
        return GIT_PASSTHROUGH.rawValue
    }
    guard allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
        return ctx.fail(
            GitError(code: .auth, domain: .net, message: "the server asks for an authentication method msgit does not support",
                     function: "credentials"),
            message: "unsupported authentication method")
    }
    ctx.credentialAttempts += 1
    let request = CredentialRequest(
        url: url.map { String(cString: $0) } ?? "",
        usernameFromURL: usernameFromURL.map { String(cString: $0) },
        attempt: ctx.credentialAttempts)
    do {
        let credential = try provide(request)
        // libgit2 names the remote's URL here, not the host that asked after a redirect: the
        // answer that asked came from the operation's last endpoint, which must be the
        // credential's own. And from now on no stream of the operation may go elsewhere.
        if let operation = ctx.operation {
            if let last = operation.lastEndpoint, !credential.endpoint.admits(host: last.host, port: last.port) {
                throw GitError(code: .auth, domain: .net,
                               message: "\(last.host):\(last.port) asks for credentials; msgit sends a token only to the "
                                   + "host it was given for (\(credential.endpoint.host):\(credential.endpoint.port))",
                               function: "credentials", streamFailure: .offOrigin)
            }
            operation.restrict(to: credential.endpoint)
        }
        return git_credential_userpass_plaintext_new(out, credential.username, credential.password)
    } catch {
        return ctx.fail(error, message: "authentication failed")
    }
}

/// Splits side-band text into whole lines (at `\n` or `\r`, empty lines left out). A line longer
/// than `limit` bytes is dropped and named as dropped: a server may send without end, and a part of
/// a line could hold part of a secret that only the whole line shows as one.
struct ServerLines {
    static let limit = 16 * 1024
    private var pending: [UInt8] = []
    private var overflowed = false

    mutating func append(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let line = take() { lines.append(line) }
            } else if overflowed {
                continue
            } else if pending.count < Self.limit {
                pending.append(byte)
            } else {
                pending.removeAll(keepingCapacity: false)
                overflowed = true
            }
        }
        return lines
    }

    /// What is left when the operation ends, if anything.
    mutating func finish() -> String? { take() }

    private mutating func take() -> String? {
        defer { pending.removeAll(keepingCapacity: true); overflowed = false }
        if overflowed { return "(a line of more than \(Self.limit) bytes, left out)" }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}
