import PropellerMQTT
import PropellerManager
import Testing

@Suite("Configuration: MANAGER_STORAGE=postgres and MANAGER_DATABASE_URL")
struct DatabaseConfigurationTests {
    @Test("a full URL sets every part; percent-encoding is decoded; sslmode is read")
    func parse() throws {
        let configuration = try ManagerConfiguration(environment: [
            "MANAGER_STORAGE": "postgres",
            "MANAGER_DATABASE_URL": "postgres://svc:p%40ss%2Fword@db.internal:6543/propeller?sslmode=require",
            "MANAGER_DATABASE_TIMEOUT": "3s",
        ])
        #expect(configuration.storage == .postgres)
        let url = try #require(configuration.databaseURL)
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.user == "svc")
        #expect(url.password == "p@ss/word")
        #expect(url.database == "propeller")
        #expect(url.tls == .require)
        #expect(configuration.databaseTimeoutSeconds == 3)
        #expect("\(url)" == "postgres://svc:***@db.internal:6543/propeller?sslmode=require")
    }

    @Test("the port defaults to 5432, TLS to prefer, and postgresql:// is accepted")
    func defaults() throws {
        let url = try #require(DatabaseURL("postgresql://svc@127.0.0.1/db"))
        #expect(url.port == 5432)
        #expect(url.password == nil)
        #expect(url.tls == .prefer)
        #expect(ManagerConfiguration().databaseTimeoutSeconds == 5)
    }

    @Test("postgres storage without MANAGER_DATABASE_URL is a start-up error naming the variable")
    func missing() {
        #expect {
            try ManagerConfiguration(environment: ["MANAGER_STORAGE": "postgres"])
        } throws: { error in
            let message = String(describing: error)
            return message.contains("MANAGER_DATABASE_URL")
                && message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
    }

    @Test(
        "a URL that does not parse names the variable and the accepted form, never the password",
        arguments: [
            "mysql://u:secret@h:5432/db", "postgres://u:secret@h:99999/db", "postgres://u:secret@h:5432/",
            "postgres://h:5432/db", "postgres://u:secret@h:5432/db?sslmode=sometimes",
            "postgres://u:secret@h:5432/db?sslmod=disable", "not a url",
        ]
    )
    func invalid(value: String) {
        #expect {
            try ManagerConfiguration(environment: ["MANAGER_STORAGE": "postgres", "MANAGER_DATABASE_URL": value])
        } throws: { error in
            let message = String(describing: error)
            return message.contains("MANAGER_DATABASE_URL")
                && message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE")
                && !message.contains("secret")
        }
    }

    @Test("a bad MANAGER_DATABASE_TIMEOUT names the variable")
    func badTimeout() {
        #expect {
            try ManagerConfiguration(environment: ["MANAGER_DATABASE_TIMEOUT": "soon"])
        } throws: { error in
            String(describing: error).contains("MANAGER_DATABASE_TIMEOUT")
        }
    }

    @Test("with postgres the managers share one subscription group and each has its own MQTT client id")
    func sharedIngestion() throws {
        let postgres = try ManagerConfiguration(environment: [
            "MANAGER_STORAGE": "postgres", "MANAGER_DATABASE_URL": "postgres://u:p@h/db", "MANAGER_HTTP_PORT": "7071",
        ])
        #expect(postgres.sharedSubscriptionGroup == "propeller-managers")
        #expect(postgres.effectiveMQTTClientID.hasPrefix("propeller-manager-default-default-"))
        #expect(postgres.effectiveMQTTClientID.hasSuffix("-7071"))
        var other = postgres
        other.httpPort = 7072
        #expect(other.effectiveMQTTClientID != postgres.effectiveMQTTClientID)
        let sqlite = ManagerConfiguration()
        #expect(sqlite.sharedSubscriptionGroup == nil)
        #expect(sqlite.effectiveMQTTClientID == "propeller-manager-default-default")
        let components = ManagerComponents(
            configuration: postgres,
            store: InMemoryStore(),
            pubsub: InMemoryPubSub(),
            logger: .quiet
        )
        #expect(
            components.ingestion.subscriptionFilter == "$share/propeller-managers/m/default/c/default/control/proplet/#"
        )
    }
}
