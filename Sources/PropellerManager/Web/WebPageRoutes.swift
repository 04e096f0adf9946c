import Foundation
import Hummingbird
import NIOCore

/// The live web page (`GET /` and `GET /ui/{file}`): static HTML, JavaScript and CSS from
/// `Sources/PropellerManager/Web/static`, read once when the routes are built. No build step, nothing
/// fetched from outside at run time.
///
/// The files are looked up beside the executable: in SwiftPM's resource bundle
/// (`propeller_PropellerManager.resources/static`, what `swift build` produces) or in `../share/propeller/web`
/// (what `make install` produces). `Bundle.module` is not used: it stops the process when the bundle is
/// missing, and a manager without its page must still serve the API.
///
/// The files hold no data and no secret, so they are served without a token; the page itself asks for
/// the API token when the manager answers 401, keeps it in the tab's `sessionStorage`, and sends it as
/// `Authorization: Bearer` on every API call (the event stream included: it is read with `fetch`, which
/// can send headers, not `EventSource`, which cannot).
struct WebPageRoutes<Context: RequestContext> {
    /// File name → (content type, bytes).
    let files: [String: (String, ByteBuffer)]

    /// Loads the files from the first directory that has `index.html`; none found: every page is a 404.
    init() {
        var files: [String: (String, ByteBuffer)] = [:]
        let directory = Self.candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path)
        }
        for (name, type) in webPageContentTypes {
            guard let url = directory?.appendingPathComponent(name), let data = try? Data(contentsOf: url) else {
                continue
            }
            files[name] = (type, ByteBuffer(bytes: data))
        }
        self.files = files
    }

    /// Where the page's files may be, in order.
    static var candidates: [URL] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return [
            executable.appendingPathComponent("propeller_PropellerManager.resources/static"),
            executable.deletingLastPathComponent().appendingPathComponent("share/propeller/web"),
        ]
    }

    func register(on router: Router<Context>) {
        router.get("/") { _, _ in try serve("index.html") }
        router.get("ui/:file") { _, context in try serve(try context.parameters.require("file")) }
    }

    private func serve(_ name: String) throws -> Response {
        guard let (type, body) = files[name] else {
            throw ManagerError.notFound(
                "no such page file \(name.prefix(64)); the page is at / (files: \(files.keys.sorted().joined(separator: ", ")))"
            )
        }
        return Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache", .init("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: body)
        )
    }
}

/// The page's files and their content types.
private let webPageContentTypes: [String: String] = [
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
]
