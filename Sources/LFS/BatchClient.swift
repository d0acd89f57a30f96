import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Logging
import Synchronization

/// The client of the Git LFS Batch API (git-lfs docs/api/batch.md), over `HTTPClient`.
public struct BatchClient: Sendable {
    /// What the batch request asks links for; the raw value is the request's `operation`.
    public enum Operation: String, Sendable { case download, upload }

    /// The LFS endpoint (`.../repo.git/info/lfs`); requests go to its `objects/batch`.
    public let endpoint: URL
    /// The credential for the endpoint's origin (the hub token), or nil.
    let scope: CredentialScope?
    let http: HTTPClient
    let logger: Logger
    var retry = RetryPolicy()
    /// Objects per request: `batchSize`, halved by each 413 the server answers, for the rest of
    /// this client's requests (its copies share it).
    private let size: Size

    /// git-lfs's default `lfs.transfer.batchSize`.
    public static let maxObjectsPerRequest = 100

    private final class Size: Sendable {
        let value: Mutex<Int>
        init(_ value: Int) { self.value = Mutex(value) }
    }

    /// - Parameter batchSize: objects per request at first (git-lfs's `lfs.transfer.batchSize`).
    public init(endpoint: URL, scope: CredentialScope?, http: HTTPClient, batchSize: Int = BatchClient.maxObjectsPerRequest,
                logger: Logger) {
        self.endpoint = endpoint
        self.scope = scope
        self.http = http
        self.logger = logger
        size = Size(max(1, batchSize))
    }

    /// The objects per request now.
    public var batchSize: Int { size.value.withLock { $0 } }

    /// Asks for `objects`, `batchSize` a request. A server that answers 413 (too many objects)
    /// gets the same objects again in requests of half as many, as git-lfs does, down to one.
    /// Objects the server answers with an error come back with `error` set; objects it did not
    /// answer for at all come back with an error 500.
    public func batch(_ operation: Operation, _ objects: [Pointer], ref: String? = nil) async throws -> [BatchObject] {
        var answers: [BatchObject] = []
        var index = 0
        while index < objects.count {
            let count = min(batchSize, objects.count - index)
            let chunk = Array(objects[index..<index + count])
            do {
                answers += try await request(operation, chunk, ref: ref)
                index += chunk.count
            } catch let error as LFSError where error.kind == .requestTooLarge && count > 1 {
                let half = count / 2
                size.value.withLock { $0 = min($0, half) }
                logger.info("LFS: the server refused a batch of \(count) objects (HTTP 413): \(half) a request from now on")
            }
        }
        return answers
    }

    private func request(_ operation: Operation, _ objects: [Pointer], ref: String?) async throws -> [BatchObject] {
        struct Body: Encodable {
            struct Object: Encodable { var oid: String; var size: Int64 }
            struct Ref: Encodable { var name: String }
            var operation: String
            var transfers = ["basic"]
            var ref: Ref?
            var objects: [Object]
            var hash_algo = "sha256"
        }
        let body = Body(operation: operation.rawValue, ref: ref.map(Body.Ref.init),
                        objects: objects.map { Body.Object(oid: $0.oid, size: $0.size) })
        var request = URLRequest(url: endpoint.appendingPathComponent("objects/batch"))
        request.httpMethod = "POST"
        request.httpBody = try JSONEncoder().encode(body)
        request.setValue("application/vnd.git-lfs+json", forHTTPHeaderField: "Accept")
        request.setValue("application/vnd.git-lfs+json", forHTTPHeaderField: "Content-Type")
        request.setValue(UserAgent.lfs, forHTTPHeaderField: "User-Agent")
        scope?.authorize(&request)

        let response = try await retry.exchange("LFS batch request to \(endpoint.redactedForRedirect)", logger: logger) {
            try await http.send(request)
        }
        let where_ = endpoint.redactedForRedirect
        switch StatusMeaning(response.status) {
        case .success:
            break
        case .refused:
            throw LFSError(.authentication, "the LFS server \(where_) refused the credentials (HTTP \(response.status))"
                + Self.serverMessage(response))
        case .notFound:
            throw LFSError(.notFound, "the LFS server \(where_) does not know this repository (HTTP 404)"
                + Self.serverMessage(response))
        case .tooLarge:
            throw LFSError(.requestTooLarge, "the LFS server \(where_) refused a batch of \(objects.count) objects as too "
                + "large (HTTP 413)" + Self.serverMessage(response))
        default:
            throw LFSError(.server, "the LFS server \(where_) answered HTTP \(response.status)" + Self.serverMessage(response))
        }
        struct Answer: Decodable {
            var transfer: String?
            var objects: [BatchObject]
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body) else {
            let type = response.header("Content-Type") ?? "no content type"
            throw LFSError(.protocolError, "the LFS server \(where_) did not answer with batch JSON (\(type): "
                + "\(Self.snippet(response.body)))")
        }
        if let transfer = answer.transfer, transfer != "basic" {
            throw LFSError(.protocolError, "the LFS server \(where_) chose the transfer adapter '\(transfer)', which msgit does not speak")
        }
        let now = Date()
        var byOID: [String: BatchObject] = [:]
        for var object in answer.objects {
            guard objects.contains(where: { $0.oid == object.oid }) else {
                logger.warning("the LFS server answered for an object not asked for: \(object.oid.prefix(64))")
                continue
            }
            object.receivedAt = now
            byOID[object.oid] = object
        }
        return objects.map { pointer in
            byOID[pointer.oid] ?? BatchObject(oid: pointer.oid, size: pointer.size, authenticated: nil, actions: nil,
                                              error: .init(code: 500, message: "the server did not answer for this object"),
                                              receivedAt: now)
        }
    }

    static func serverMessage(_ response: HTTPClient.Response) -> String {
        struct Message: Decodable { var message: String? }
        if let message = (try? JSONDecoder().decode(Message.self, from: response.body))?.message, !message.isEmpty {
            return ": \(message)"
        }
        let text = snippet(response.body)
        return text.isEmpty ? "" : ": \(text)"
    }

    static func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(160), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return text.unicodeScalars.allSatisfy { $0.value >= 32 || $0 == "\t" } ? text : "binary data"
    }
}
