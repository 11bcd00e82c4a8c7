import Foundation
import RCMHTTP
import Testing

@testable import RCMPlatform

@Suite("OpenAPI document")
struct OpenAPITests {
    static let documentURL = RCMProcess.packageRoot.appendingPathComponent("docs/openapi.json")

    func document() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.documentURL)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("describes exactly the routes the router serves")
    func matchesRouteTable() throws {
        let document = try document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods = Set(HTTPMethod.allCases.map { $0.rawValue.lowercased() })
        var documented = Set<String>()
        for (path, item) in paths {
            for key in item.keys where methods.contains(key) { documented.insert("\(key.uppercased()) \(path)") }
        }
        let platform = try TestPlatform(demo: false)
        let served = Set(platform.app.router.descriptors.map { "\($0.method.rawValue) \($0.pattern)" })
        #expect(served.subtracting(documented).sorted() == [], "routes missing from docs/openapi.json")
        #expect(documented.subtracting(served).sorted() == [], "documented routes the router does not serve")
    }

    @Test("every operation documents its errors as problem+json")
    func problems() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item {
                guard let operation = value as? [String: Any], let responses = operation["responses"] as? [String: Any]
                else { continue }
                #expect(!responses.isEmpty, "\(method) \(path) has no responses")
                let errorStatuses = responses.keys.filter { $0.hasPrefix("4") || $0.hasPrefix("5") }
                for status in errorStatuses {
                    // The readiness probe's 503 is its report (which databases are down), by design.
                    if path == "/health/ready" && status == "503" { continue }
                    // OAuth2's token endpoint answers errors as RFC 6749 §5.2 says OAuth2 clients expect.
                    if path == "/api/auth/token" { continue }
                    let content = (responses[status] as? [String: Any])?["content"] as? [String: Any]
                    #expect(
                        content?.keys.sorted() == ["application/problem+json"],
                        "\(method) \(path) \(status) is not problem+json")
                }
            }
        }
    }
}
