import Logging

/// Runs a store call for a service, mapping its failures: a duplicate id → 409, anything else → 500
/// (logged: the database failed, not the client). Outcomes the client caused come back as values of the
/// store's domain operations, never as errors.
func storeCall<T>(
    _ operation: String,
    logger: Logger,
    _ body: () async throws -> T
) async throws(ManagerError) -> T {
    do {
        return try await body()
    } catch StoreError.notFound(let kind, let id) {
        throw .notFound("\(kind) \(id) not found")
    } catch StoreError.conflict(let kind, let id) {
        throw .conflict("\(kind) \(id) already exists")
    } catch {
        logger.error("store failure", metadata: ["operation": "\(operation)", "error": "\(error)"])
        throw .internalFailure("\(operation) failed")
    }
}
