import Foundation
import Hummingbird
import NIOCore
import PropellerCore

/// Reading JSON request bodies and writing JSON responses.
enum JSONBody {
    /// The body of a request that must carry JSON: a non-JSON `Content-Type` → 415; more than
    /// `limit` bytes → 413 (checked against `Content-Length` first, then while reading).
    /// An empty body is returned as nil when `allowEmpty` (no `Content-Type` needed then).
    static func read(_ request: inout Request, limit: Int, allowEmpty: Bool = false) async throws(ManagerError) -> Data?
    {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw .payloadTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw .payloadTooLarge(limit: limit)
        } catch {
            throw .badRequest("could not read the request body: \(error)")
        }
        if buffer.readableBytes == 0 && allowEmpty { return nil }
        let contentType = request.headers[.contentType]
        guard let contentType, isJSON(contentType) else { throw .unsupportedMediaType(contentType) }
        guard buffer.readableBytes > 0 else { throw .badRequest("request body is empty; expected a JSON object") }
        return Data(buffer: buffer)
    }

    /// `application/json` or any `+json` type, with optional parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String) -> Bool {
        let type =
            contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// A JSON response.
    static func response(
        _ value: some Encodable,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) throws
        -> Response
    {
        let data = try WireCoding.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
