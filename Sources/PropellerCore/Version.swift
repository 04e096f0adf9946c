/// The version of this build of Propeller, reported by `/health`, registrations and `--version`.
public enum PropellerVersion {
    public static let current = "0.1.0"
}
