import Hummingbird
import PropellerCore

/// `/proplets`: list, read, delete and proplet-level samples (SPEC §4).
struct PropletRoutes<Context: RequestContext> {
    let registry: PropletRegistry

    func register(on router: Router<Context>) {
        let proplets = router.group("proplets")
        proplets.get { request, _ in
            let query = try QueryParameters(request, accepted: ["offset", "limit"])
            let page = try query.page()
            let result = try await registry.list(page: page)
            return try JSONBody.response(
                PropletPageBody(offset: page.offset, limit: page.limit, total: result.total, proplets: result.items)
            )
        }
        proplets.get(":id") { request, context in
            _ = try QueryParameters(request, accepted: [])
            return try JSONBody.response(try await registry.proplet(id: try context.parameters.require("id")))
        }
        proplets.delete(":id") { request, context in
            _ = try QueryParameters(request, accepted: [])
            try await registry.delete(id: try context.parameters.require("id"))
            return Response(status: .noContent)
        }
        proplets.get(":id/metrics") { request, context in
            let query = try QueryParameters(request, accepted: ["offset", "limit", "from", "to", "order"])
            let page = try query.page()
            let range = try query.range()
            let order = try query.order()
            let (proplet, result) = try await registry.samples(
                id: try context.parameters.require("id"),
                range: range,
                order: order,
                page: page
            )
            return try JSONBody.response(
                PropletSamplesBody(
                    propletID: proplet.id,
                    offset: page.offset,
                    limit: page.limit,
                    total: result.total,
                    metrics: result.items
                )
            )
        }
    }
}
