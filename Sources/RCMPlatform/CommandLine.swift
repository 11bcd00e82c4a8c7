import Foundation
import IdentityService
import InsuranceService
import PatientService
import RCMCodes
import RCMCore
import RCMEvents
import RCMSecurity
import RCMServiceKit
import RCMStorage
import RCMX12

/// The `rcm` command: `serve`, `migrate`, `events dead-letters`, `events replay ID`.
public enum RCMCommand {
    static let usage = """
        rcm — clinic revenue-cycle platform

        USAGE
          rcm serve [options]                 run the services and the HTTP API
          rcm migrate [options]               apply pending schema migrations and exit
          rcm demo load [options]             load the demo data into services at RCM_<SERVICE>_URL (a cluster)
          rcm events dead-letters [options]   list events that could not be delivered
          rcm events replay EVENT_ID [options]  queue a dead-lettered event for delivery again
          rcm users create-admin --email E [options]  create an admin (password on standard input)
          rcm audit verify [options]          check the audit trail's hash chain and signed checkpoints
          rcm keys rotate [options]           add a data key and re-encrypt every sealed field with it
          rcm keys rotate-signing [options]   add a token-signing key (tokens signed by older keys stay valid)
          rcm certs dev [--dir D]             make a development CA and a localhost certificate (default ./data/certs)
          rcm x12 parse|validate FILE         print an X12 5010 file as JSON, or list its issues (exit 1 on errors)

        OPTIONS (each also from the environment variable shown)
          --host HOST          address to listen on (RCM_HOST, default 127.0.0.1)
          --port PORT          port to listen on (RCM_PORT, default 8080)
          --data-dir DIR       SQLite files, one per service (RCM_DATA_DIR, default ./data)
          --database-url URL   postgres://… to use PostgreSQL, one schema per service (RCM_DATABASE_URL)
          --schema-prefix P    prefix of the PostgreSQL schema names (RCM_SCHEMA_PREFIX)
          --service NAME       host only this service; repeatable (RCM_SERVICES=a,b)
                               services: patient, insurance, billing, claim, payment, reporting
          --demo               load the demo organization on start (RCM_DEMO=1)
          --organization ID    the organization of the demo data and the first admin (RCM_ORGANIZATION_ID, default org_demo)
          --currency CODE      ISO 4217 currency of the organization (RCM_CURRENCY, default INR)
          --threads N          HTTP worker threads (RCM_THREADS, default: number of cores)
          --tls-key FILE       serve HTTPS with this PEM key (RCM_TLS_KEY) ...
          --tls-cert FILE      ... and this PEM certificate chain (RCM_TLS_CERT); HSTS is sent
          -h, --help           show this help

        ENVIRONMENT ONLY
          RCM_ADMIN_EMAIL, RCM_ADMIN_PASSWORD   create the first admin on a start with no users
          RCM_KEYS_DIR         token-signing keys (default <data-dir>/keys)
          RCM_<SERVICE>_URL    where a service this process does not host answers (e.g. RCM_PATIENT_URL)
          RCM_<NAME>_FILE      any RCM_<NAME> read from a file instead (Docker and Kubernetes secrets)
          RCM_INSTANCE_ID      names one of several instances of a service on one database (its own audit chain)
          RCM_LOG_LEVEL        debug, info (default), warning or error
          RCM_OTLP_ENDPOINT    export spans over OTLP/HTTP JSON, e.g. http://127.0.0.1:4318/v1/traces
          RCM_TRACE_SAMPLE_RATIO  share of new traces exported, 0 (default) to 1; a caller's traceparent decides its own
          RCM_EVENT_TRANSPORT  in-process (default) or rabbitmq, with RCM_AMQP_URL (amqp://user:pass@host:port/vhost)
          RCM_SQLITE_SYNCHRONOUS, RCM_EVENT_DELIVERY, RCM_RELAY_NICE, RCM_MAX_BODY_BYTES, RCM_SCHEMA_PREFIX (see README)
        """

    /// Runs the command; returns the process exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        do {
            try loadSecretFiles()
        } catch {
            FileHandle.standardError.write(Data("rcm: \(error)\n".utf8))
            return 2
        }
        if let name = ProcessInfo.processInfo.environment["RCM_LOG_LEVEL"], let level = Logger.level(named: name) {
            Logger.setLevel(level)
        }
        do {
            var rest = arguments
            guard let command = rest.first else {
                print(usage)
                return 0
            }
            rest.removeFirst()
            if ["-h", "--help", "help"].contains(command) {
                print(usage)
                return 0
            }
            switch command {
            case "serve":
                let (configuration, help) = try parse(rest)
                if help { print(usage); return 0 }
                return try serve(configuration)
            case "migrate":
                let (configuration, help) = try parse(rest)
                if help { print(usage); return 0 }
                for type in try Platform.selectedTypes(configuration.services) {
                    let database = try Platform.openDatabase(configuration, service: type.name)
                    let applied = try Migrator.migrate(database, type.migrations)
                    print(
                        "\(type.name): \(applied.isEmpty ? "up to date" : "applied \(applied.map(String.init).joined(separator: ", "))")"
                    )
                    database.close()
                }
                return 0
            case "events":
                return try events(rest)
            case "users":
                return try users(rest)
            case "audit":
                return try auditCommand(rest)
            case "keys":
                return try keysCommand(rest)
            case "x12":
                return X12Command.run(rest)
            case "demo":
                guard rest.first == "load" else { throw UsageError("demo needs 'load'") }
                let (configuration, help) = try parse(Array(rest.dropFirst()))
                if help { return 0 }
                return try demoLoad(configuration)
            case "codes-bench":  // hidden: in-process code search latency, for bench/codes.sh
                let file = try String(contentsOfFile: rest.first ?? "bench/codes/queries.txt", encoding: .utf8)
                let queries = file.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
                print(CodeSearchBenchmark.run(queries: queries, rounds: rest.count > 1 ? Int(rest[1]) ?? 20 : 20))
                return 0
            case "broker-bench":
                return try BrokerBenchmark.run(rest)
            case "certs":
                guard rest.first == "dev" else { throw UsageError("certs needs 'dev [--dir D]'") }
                var directory = "./data/certs"
                if let flag = rest.firstIndex(of: "--dir"), flag + 1 < rest.count { directory = rest[flag + 1] }
                try DevelopmentCertificates.writeDevelopmentSet(to: directory)
                say("Wrote \(directory)/ca.pem (trust it in your client), server.pem and server-key.pem for localhost.")
                say(
                    "Serve HTTPS with: rcm serve --tls-key \(directory)/server-key.pem --tls-cert \(directory)/server.pem"
                )
                return 0
            default:
                throw UsageError("unknown command '\(command)'; see rcm --help")
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("rcm: \(error.description)\n".utf8))
            return 64
        } catch {
            FileHandle.standardError.write(Data("rcm: \(error)\n".utf8))
            return 1
        }
    }

    static func serve(_ configuration: PlatformConfiguration) throws -> Int32 {
        let platform = try Platform(configuration: configuration)
        try createFirstAdmin(platform)
        if configuration.demo {
            try DemoData.load(into: platform)
            let users = try DemoData.loadUsers(into: platform)
            say(
                "Demo organization \(configuration.organizationId) loaded: patients P10001 (insured), P10002 (uninsured), P10003 (insured); locations \(DemoData.locations.joined(separator: ", "))."
            )
            if !users.isEmpty {
                say("Demo users (passwords are new on every fresh start; log in with POST /api/auth/login):")
                for user in users { say("  \(user.role.rawValue): \(user.email)  \(user.password)") }
            }
        }
        platform.startEventDelivery()
        let port = try platform.serve()
        say("rcm listening on \(configuration.tlsKeyFile == nil ? "http" : "https")://\(configuration.host):\(port)")
        platform.waitForTermination()
        return 0
    }

    /// `rcm demo load`: loads the demo organization's data into services that run elsewhere
    /// (`RCM_<SERVICE>_URL`), through their APIs, with a system token signed by this installation's
    /// keys. Hosts nothing itself unless `--service` says so.
    static func demoLoad(_ configuration: PlatformConfiguration) throws -> Int32 {
        var configuration = configuration
        if configuration.services == nil { configuration.services = [] }
        let platform = try Platform(configuration: configuration)
        defer { platform.shutdown() }
        try DemoData.load(into: platform)
        say("Demo data loaded into \(configuration.serviceURLs.keys.sorted().joined(separator: ", ")).")
        return 0
    }

    /// `RCM_ADMIN_EMAIL` and `RCM_ADMIN_PASSWORD` make the first admin when there are no users yet.
    static func createFirstAdmin(_ platform: Platform) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let email = environment["RCM_ADMIN_EMAIL"], let password = environment["RCM_ADMIN_PASSWORD"],
            let identity = platform.databases["identity"], try IdentityService.userCount(in: identity) == 0
        else { return }
        try IdentityService.ensureOrganization(
            id: platform.configuration.organizationId, name: platform.configuration.organizationId,
            currency: platform.configuration.currency, locations: [], in: identity)
        _ = try IdentityService.createUser(
            email: email, password: password, displayName: "Administrator",
            organizationId: platform.configuration.organizationId, roles: [.admin], in: identity)
        say("Created the first admin, \(email).")
    }

    /// `rcm keys rotate`: a new data key encrypts from now on, and every sealed field is
    /// re-encrypted with it; the old keys stay in the key file until an operator removes them.
    static func keysCommand(_ arguments: [String]) throws -> Int32 {
        if arguments.first == "rotate-signing" {
            let (configuration, _) = try parse(Array(arguments.dropFirst()))
            let key = try KeyStore(directory: configuration.keysDirectory).rotate()
            say(
                "New signing key \(key.kid); restart the servers of this installation to sign with it (old tokens stay valid)."
            )
            return 0
        }
        guard arguments.first == "rotate" else { throw UsageError("keys needs 'rotate' or 'rotate-signing'") }
        let (configuration, help) = try parse(Array(arguments.dropFirst()))
        if help {
            print(usage)
            return 0
        }
        let fields = try FieldEncryption(file: configuration.keysDirectory + "/data-keys.json")
        let kid = try fields.addKey()
        let patients = try Platform.openDatabase(configuration, service: PatientService.name)
        defer { patients.close() }
        try Migrator.migrate(patients, PatientService.migrations)
        let insurance = try Platform.openDatabase(configuration, service: InsuranceService.name)
        defer { insurance.close() }
        try Migrator.migrate(insurance, InsuranceService.migrations)
        let changed =
            try PatientService.reencrypt(patients, fields: fields)
            + InsuranceService.reencrypt(insurance, fields: fields)
        say("New data key \(kid); re-encrypted \(changed) records. Restart running servers to encrypt with it.")
        return 0
    }

    /// `rcm audit verify`: recomputes the hash chain and checks the signed checkpoints.
    static func auditCommand(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "verify" else { throw UsageError("audit needs 'verify'") }
        let (configuration, help) = try parse(Array(arguments.dropFirst()))
        if help {
            print(usage)
            return 0
        }
        let database = try Platform.openDatabase(configuration, service: configuration.auditDatabaseName)
        defer { database.close() }
        let log = try AuditLog(database: database, keys: try KeyStore(directory: configuration.keysDirectory))
        let result = try log.verify()
        if let problem = result.problem {
            say("audit trail BROKEN: \(problem) (\(result.entries) entries intact before it)")
            return 2
        }
        say("audit trail intact: \(result.entries) entries, \(result.checkpoints) signed checkpoints")
        return 0
    }

    /// `rcm users create-admin --email E`: the password is read from standard input (one line).
    static func users(_ arguments: [String]) throws -> Int32 {
        guard arguments.first == "create-admin" else { throw UsageError("users needs 'create-admin --email E'") }
        var rest = Array(arguments.dropFirst())
        guard let flag = rest.firstIndex(of: "--email"), flag + 1 < rest.count else {
            throw UsageError("users create-admin needs --email E")
        }
        let email = rest[flag + 1]
        rest.removeSubrange(flag...(flag + 1))
        let (configuration, help) = try parse(rest)
        if help {
            print(usage)
            return 0
        }
        FileHandle.standardError.write(Data("Password for \(email) (one line on standard input): ".utf8))
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw UsageError("no password on standard input")
        }
        let database = try Platform.openDatabase(configuration, service: IdentityService.name)
        defer { database.close() }
        try Migrator.migrate(database, IdentityService.migrations)
        do {
            try IdentityService.ensureOrganization(
                id: configuration.organizationId, name: configuration.organizationId, currency: configuration.currency,
                locations: [], in: database)
            _ = try IdentityService.createUser(
                email: email, password: password, displayName: "Administrator",
                organizationId: configuration.organizationId, roles: [.admin], in: database)
        } catch let problem as Problem {
            throw UsageError(
                problem.errors.isEmpty ? problem.detail : problem.errors.map(\.message).joined(separator: "; "))
        }
        say("Created admin \(email) in \(configuration.organizationId).")
        return 0
    }

    /// Prints a line at once, even when standard output is a pipe.
    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

    static func events(_ arguments: [String]) throws -> Int32 {
        guard let sub = arguments.first else { throw UsageError("events needs 'dead-letters' or 'replay ID'") }
        var rest = Array(arguments.dropFirst())
        var eventId: String?
        if sub == "replay" {
            guard let id = rest.first, !id.hasPrefix("-") else { throw UsageError("events replay needs an event id") }
            eventId = id
            rest.removeFirst()
        }
        let (configuration, help) = try parse(rest)
        if help { print(usage); return 0 }
        var found = 0
        for type in try Platform.selectedTypes(configuration.services) {
            let database = try Platform.openDatabase(configuration, service: type.name)
            defer { database.close() }
            try Migrator.migrate(database, type.migrations)
            switch sub {
            case "dead-letters":
                for letter in try DeadLetters.list(in: database) {
                    found += 1
                    print(
                        "\(letter.eventId)\t\(letter.type)\t\(letter.source) -> \(letter.subscriber)\tattempts \(letter.attempts)\t\(letter.lastError ?? "")"
                    )
                }
            case "replay":
                found += try DeadLetters.replay(eventId: eventId ?? "", in: database)
            default:
                throw UsageError("unknown events command '\(sub)'")
            }
        }
        if sub == "dead-letters" {
            print(found == 0 ? "no dead letters" : "\(found) dead letter(s)")
        } else if found == 0 {
            throw UsageError("no dead letter for event \(eventId ?? "")")
        } else {
            print(
                "queued \(found) delivery(ies) of \(eventId ?? "") again; a running server delivers them within a second"
            )
        }
        return 0
    }

    /// Flags over environment over defaults.
    static func parse(_ arguments: [String]) throws -> (PlatformConfiguration, help: Bool) {
        var configuration = try PlatformConfiguration.fromEnvironment()
        var services: [String] = []
        var index = 0
        func value(_ flag: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(flag) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "-h", "--help": return (configuration, true)
            case "--host": configuration.host = try value(flag)
            case "--port": configuration.port = try PlatformConfiguration.parsePort(try value(flag), "--port")
            case "--data-dir": configuration.dataDirectory = try value(flag)
            case "--database-url": configuration.databaseURL = try value(flag)
            case "--schema-prefix":
                configuration.schemaPrefix = try PlatformConfiguration.checkSchemaPrefix(try value(flag))
            case "--service": services.append(try value(flag))
            case "--demo": configuration.demo = true
            case "--organization": configuration.organizationId = try value(flag)
            case "--currency": configuration.currency = try value(flag)
            case "--tls-key": configuration.tlsKeyFile = try value(flag)
            case "--tls-cert": configuration.tlsCertificateFile = try value(flag)
            case "--threads":
                guard let threads = Int(try value(flag)), threads > 0 else {
                    throw UsageError("--threads must be positive")
                }
                configuration.limits.threads = threads
            default: throw UsageError("unknown option '\(flag)'; see rcm --help")
            }
            index += 1
        }
        if !services.isEmpty { configuration.services = services }
        return (configuration, false)
    }
}

extension RCMCommand {
    /// `RCM_<NAME>_FILE=/run/secrets/x` sets `RCM_<NAME>` to the file's content (trailing newline
    /// dropped) unless `RCM_<NAME>` is set: secrets mounted as files never pass through the
    /// environment of the container definition.
    static func loadSecretFiles() throws {
        for (key, path) in ProcessInfo.processInfo.environment where key.hasPrefix("RCM_") && key.hasSuffix("_FILE") {
            let name = String(key.dropLast("_FILE".count))
            guard ProcessInfo.processInfo.environment[name] == nil else { continue }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw UsageError("\(key): cannot read \(path)")
            }
            var value = String(decoding: contents, as: UTF8.self)
            while value.last == "\n" || value.last == "\r" { value.removeLast() }
            setenv(name, value, 0)
        }
    }
}
