import Foundation
import Synchronization

/// The tokens one operation handles: each is masked by `Redactor.shared` from when the operation
/// admits it until `end()` (called when the operation returns, whatever happened).
package final class SecretScope: Sendable {
    private let held = Mutex<[String]?>([])

    package init() {}

    /// Masks `credential`'s token for the rest of the operation, and returns the credential.
    @discardableResult
    package func admit(_ credential: Credential?) -> Credential? {
        if let credential { admit(token: credential.token) }
        return credential
    }

    package func admit(token: String) {
        held.withLock { held in
            // After `end`, nothing more is held (a late caller cannot leak a registration).
            guard held != nil, Redactor.shared.hold(token) else { return }
            held!.append(token)
        }
    }

    /// Releases every token this scope holds. Later calls do nothing.
    package func end() {
        let tokens = held.withLock { held -> [String] in
            defer { held = nil }
            return held ?? []
        }
        for token in tokens { Redactor.shared.release(token) }
    }

    deinit { end() }
}
