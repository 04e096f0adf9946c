import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which hosts an `image_url` fetch may reach. By default a proplet refuses hosts that resolve to a
/// loopback (`127.0.0.0/8`, `::1`), link-local (`169.254.0.0/16` — cloud metadata services —,
/// `fe80::/10`) or unspecified (`0.0.0.0`, `::`) address, so a task cannot make the proplet fetch
/// from services that trust only the machine itself. `PROPLET_REGISTRY_ALLOW_PRIVATE=true` allows them.
///
/// Limitation: the check resolves the name once before the request; a DNS answer that changes
/// between the check and the connection (rebinding) is not caught.
public struct AddressPolicy: Sendable, Hashable {
    /// Whether loopback, link-local and unspecified addresses are allowed (default false).
    public var allowPrivate: Bool

    /// A policy; `allowPrivate` defaults to false.
    public init(allowPrivate: Bool = false) {
        self.allowPrivate = allowPrivate
    }

    /// Why `host` may not be reached, or nil when it may: names the address it resolved to.
    package func refusal(host: String) -> String? {
        guard !allowPrivate else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        for address in Self.resolve(bare) where Self.isRestricted(address) {
            return "\(host) resolves to \(Self.text(address)), a loopback or link-local address; "
                + "set PROPLET_REGISTRY_ALLOW_PRIVATE=true to allow it"
        }
        return nil
    }

    /// One resolved address: 4 bytes (IPv4) or 16 bytes (IPv6).
    package typealias Address = [UInt8]

    /// Whether an address is loopback, link-local or unspecified (IPv4-mapped IPv6 included).
    package static func isRestricted(_ address: Address) -> Bool {
        if address.count == 4 {
            return address[0] == 127 || (address[0] == 169 && address[1] == 254) || address.allSatisfy { $0 == 0 }
        }
        guard address.count == 16 else { return true }
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
            return isRestricted(Array(address[12..<16]))
        }
        let loopback = address[0..<15].allSatisfy { $0 == 0 } && address[15] == 1
        let unspecified = address.allSatisfy { $0 == 0 }
        let linkLocal = address[0] == 0xFE && (address[1] & 0xC0) == 0x80
        return loopback || unspecified || linkLocal
    }

    /// Every address `host` resolves to (empty when it does not resolve: the request then fails on
    /// its own with a clear error).
    static func resolve(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let socketAddress = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        var raw = $0.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                } else if entry.pointee.ai_family == AF_INET6 {
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        var raw = $0.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    private static func text(_ address: Address) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: address.count, by: 2)
            .map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
