import Foundation
import RCMCodes
import RCMCore
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Code search for coders and front desks: ICD-10-CM, HCPCS Level II, CPT (from the clinic's
/// licensed file) and the clinic's own codes from the charge master.
extension BillingService {
    static let maxCodeResults = 100

    func registerCodeRoutes(_ billing: RouterBuilder) {
        billing.get("/codes", searchCodes)
        billing.get("/codes/{system}/{code}", readCode)
    }

    /// `GET /api/billing/codes?system=&q=&limit=&date=&locationId=`
    func searchCodes(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var validation = Validation()
        let system = request.query["system"].flatMap(CodeSystem.init(rawValue:))
        if system == nil {
            validation.fail("query:system", "must be one of icd10cm, hcpcs, cpt, local")
        }
        let query = request.query["q"] ?? ""
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        validation.require(
            !trimmed.isEmpty && query.count <= 100, "query:q", "must be 1 to 100 characters, not all spaces")
        var limit = 20
        if let text = request.query["limit"] {
            if let value = Int(text), (1...BillingService.maxCodeResults).contains(value) {
                limit = value
            } else {
                validation.fail("query:limit", "must be 1 to \(BillingService.maxCodeResults)")
            }
        }
        var date: CalendarDate?
        if let text = request.query["date"], !text.isEmpty {
            date = CalendarDate(text)
            validation.require(date != nil, "query:date", "must be YYYY-MM-DD")
        }
        try validation.check()
        guard let system else { throw Problem.invalid(pointer: "query:system", "is required") }
        let search = try codeSearch(for: system, request: request, context: context)
        let items = search.search(system: system, query: trimmed, limit: limit, on: date).map { CodeItem($0.info) }
        return try .json(["items": items])
    }

    /// `GET /api/billing/codes/{system}/{code}?date=&locationId=`
    func readCode(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        guard let system = CodeSystem(rawValue: context.parameter("system")) else {
            throw Problem.invalid(pointer: "path:system", "must be one of icd10cm, hcpcs, cpt, local")
        }
        let date = try request.dateQuery("date")
        let code = context.parameter("code")
        let search = try codeSearch(for: system, request: request, context: context)
        guard let info = search.lookup(system: system, code: code, on: date) else {
            throw Problem.notFound(
                "No \(system.rawValue) code \(code)" + (date.map { " in force on \($0)" } ?? "") + ".")
        }
        return try .json(CodeItem(info, full: true))
    }

    /// The code sets for one request: the shared public ones, and for local codes the charge
    /// master of `locationId`, or of every location the caller may see.
    func codeSearch(for system: CodeSystem, request: HTTPRequest, context: RequestContext) throws -> CodeSearch {
        var search = CodeSearch(hcpcs: ClinicCodeFiles.hcpcs, cpt: ClinicCodeFiles.cpt)
        guard system == .local else { return search }
        var sql: SQL = "SELECT code, description FROM charge_items WHERE organization_id = \(context.organizationId)"
        if let location = request.query["locationId"], !location.isEmpty {
            try context.requireLocation(location, pointer: "query:locationId")
            sql = sql + " AND location_id = \(location)"
        } else {
            sql = sql + context.locationFilter("location_id")
        }
        let rows = try environment.database.read { try $0.query(sql + " ORDER BY code, location_id") }
        var items: [(code: String, description: String)] = []
        var seen: Set<String> = []
        for row in rows {
            let code = try row.string("code")
            if seen.insert(code).inserted { items.append((code, try row.string("description"))) }
        }
        search.local = LocalCodeSet(items: items)
        return search
    }
}

/// One code as the API shows it.
struct CodeItem: Encodable {
    struct Ages: Encodable {
        let min: Int
        let max: Int
    }

    let system: String
    let code: String
    let display: String
    let description: String
    let billable: Bool
    let sexEdit: String?
    let ageEdit: Ages?
    let effectiveFrom: CalendarDate?
    let effectiveTo: CalendarDate?

    init(_ info: CodeInfo, full: Bool = false) {
        system = info.system.rawValue
        code = info.code
        display = info.display
        description = info.description
        billable = info.billable
        sexEdit = info.sexEdit?.rawValue
        ageEdit = info.ageRange.map { Ages(min: $0.lowerBound, max: $0.upperBound) }
        effectiveFrom = full ? info.effectiveFrom : nil
        effectiveTo = full ? info.effectiveTo : nil
    }
}

/// The code files a clinic supplies, read once per process: CMS's HCPCS file (`RCM_HCPCS_FILE`,
/// fixed-width or CSV; the bundled sample otherwise) and its licensed CPT file (`RCM_CPT_FILE`,
/// `code,description` CSV; format checks only otherwise). A file that cannot be read is logged
/// and left out.
enum ClinicCodeFiles {
    static let hcpcs: CodeIndex = {
        guard let path = ProcessInfo.processInfo.environment["RCM_HCPCS_FILE"], !path.isEmpty else {
            return HCPCS.sample
        }
        do {
            return try HCPCS.load(contentsOf: URL(fileURLWithPath: path))
        } catch {
            Logger(label: "billing").log(
                .error, "RCM_HCPCS_FILE unreadable; using the HCPCS sample", ["error": "\(error)"])
            return HCPCS.sample
        }
    }()

    static let cpt: CodeIndex? = {
        guard let path = ProcessInfo.processInfo.environment["RCM_CPT_FILE"], !path.isEmpty else { return nil }
        do {
            return try CPT.importCSV(String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self))
        } catch {
            Logger(label: "billing").log(
                .error, "RCM_CPT_FILE unreadable; CPT codes get format checks only", ["error": "\(error)"])
            return nil
        }
    }()
}
