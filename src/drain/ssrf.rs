//! SSRF guard: drain destinations may not reach loopback, private, link-local or
//! cloud-metadata addresses unless the operator sets `drains.allow_private_destinations`
//! (docs/spec.md §6). A drain URL is chosen by an organization, not by the operator, so without the
//! guard any organization could make Outflow POST to the metadata service or to an internal
//! admin port and read the answer back from the delivery log.
//!
//! Three layers, because each sees something the others cannot:
//!
//! - [`check_url`] runs when a destination is built. It sees IP-literal hosts, which the HTTP
//!   client connects to without consulting any resolver.
//! - [`client`] plugs a resolver into reqwest that refuses a name when *any* of its
//!   addresses is forbidden. reqwest connects to exactly the addresses this resolver returns,
//!   so the addresses checked are the addresses connected to: a name that answers a public
//!   address to the check and a private one to the connection (DNS rebinding) has no second
//!   lookup to exploit. The client follows no redirects — a `302` to `http://127.0.0.1/` would
//!   otherwise step around the check — and ignores system proxy settings, because through a
//!   proxy the resolver would vet the proxy's address and the proxy would resolve the
//!   destination unchecked.
//! - [`check_host_resolves`] resolves and checks up front, for clients we cannot plug a
//!   resolver into (the S3 SDK). That one does leave a window between check and connect;
//!   it is the best available there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether a destination may not connect to `ip` (unless private destinations are allowed).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => v6_forbidden(v6),
    }
}

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 0 // "this network"; 0.0.0.0 reaches the local host on Linux
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT; also Alibaba's metadata 100.100.100.200
        || (a == 169 && b == 254) // link-local, with 169.254.169.254 (cloud metadata)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || a >= 224 // multicast 224/4, reserved 240/4 and the broadcast address
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    // AWS's IPv6 metadata endpoint; inside fc00::/7 too, named so it survives any edit.
    const AWS_METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
    if ip.is_loopback() || ip.is_unspecified() || ip == AWS_METADATA {
        return true;
    }
    let seg = ip.segments();
    // Addresses that carry an IPv4 address reach it: judge them by it. `to_ipv4` covers
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d).
    if let Some(v4) = ip.to_ipv4() {
        return v4_forbidden(v4);
    }
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // NAT64 well-known prefix 64:ff9b::/96: the gateway connects to the embedded address.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_forbidden(embedded(seg[6], seg[7]));
    }
    // 6to4 2002::/16 carries its IPv4 address in the next 32 bits.
    if seg[0] == 0x2002 && v4_forbidden(embedded(seg[1], seg[2])) {
        return true;
    }
    (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (seg[0] & 0xff00) == 0xff00 // multicast
}

/// The error the guarded resolver fails with. Callers find it in a request error's source
/// chain to tell a refused destination (permanent) from an unreachable one (transient).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refusal(host: &str) -> String {
    // The address itself stays out: naming what an internal name resolves to would turn
    // the error into a probe of the operator's network.
    format!(
        "`{host}` resolves to a private, loopback, link-local or metadata address; drain \
         destinations may not reach those unless the operator sets \
         `drains.allow_private_destinations`"
    )
}

/// Resolves with the system resolver and refuses names with any forbidden address.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port (or the scheme's) on every address.
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| is_forbidden(a.ip())) {
                return Err(Box::new(Refused(refusal(&host))) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client destinations use: no redirects, no system proxy, `request_timeout`, and —
/// unless `allow_private` — the guarded resolver. Plain parameters rather than the
/// destinations' `DestContext`, so the guard depends on nothing above it.
///
/// One client is shared by every destination with the same settings: a client carries its
/// TLS configuration and connection pool, and thousands of drains each building their own
/// cost tens of kilobytes apiece (measured: 10,000 idle drains went from 575 MB to the
/// figure in the README). Cloning a client is a reference-count increment.
pub fn client(allow_private: bool, request_timeout: std::time::Duration) -> reqwest::Client {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CLIENTS: OnceLock<Mutex<HashMap<(bool, std::time::Duration), reqwest::Client>>> =
        OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    clients
        .entry((allow_private, request_timeout))
        .or_insert_with(|| build_client(allow_private, request_timeout))
        .clone()
}

fn build_client(allow_private: bool, request_timeout: std::time::Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(request_timeout)
        .user_agent(concat!("outflow/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    builder
        .build()
        .expect("only TLS initialisation can fail, and rustls with bundled roots does not")
}

/// Checks what the resolver cannot see: the scheme (`http` or `https`), that there is a
/// host, and an IP-literal host.
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL scheme must be `http` or `https`, not `{}`",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        None => return Err("the URL has no host".into()),
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    if !allow_private && is_forbidden(ip) {
        return Err(format!(
            "the URL's host {ip} is a private, loopback, link-local or metadata address; \
             drain destinations may not reach those unless the operator sets \
             `drains.allow_private_destinations`"
        ));
    }
    Ok(())
}

/// [`check_url`], then resolves the host and refuses it if any address is forbidden — for
/// clients that cannot use the guarded resolver (see the module doc for the window this
/// leaves).
pub async fn check_host_resolves(url: &url::Url, allow_private: bool) -> Result<(), String> {
    check_url(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(()); // an IP literal, judged by check_url
    };
    let port = url.port_or_known_default().unwrap_or(0);
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("could not resolve `{host}`: {e}"))?;
    for addr in addrs {
        if is_forbidden(addr.ip()) {
            return Err(refusal(host));
        }
    }
    Ok(())
}

/// For a destination URL stored before any drain uses it (a secret): refuses what
/// [`check_host_resolves`] refuses, except that a name which does not resolve (yet) passes —
/// the drain's preflight check reports that, and DNS may well be set up later.
pub async fn check_stored_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    check_url(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(0);
    let forbidden = match tokio::net::lookup_host((host, port)).await {
        Ok(mut addrs) => addrs.any(|a| is_forbidden(a.ip())),
        Err(_) => false,
    };
    if forbidden {
        return Err(refusal(host));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden(s.parse().unwrap())
    }

    #[test]
    fn ipv4_table() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.100.100.200",
            "100.127.255.255",
            "127.0.0.1",
            "127.5.5.5",
            "169.254.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.1.1",
            "169.255.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "192.169.0.1",
            "223.255.255.255",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn ipv6_table() {
        for ip in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::192.168.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        for ip in [
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "fbff::1",
            "fe00::1",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn check_url_schemes_hosts_and_literals() {
        assert!(check_url(&url("https://example.com/hook"), false).is_ok());
        assert!(check_url(&url("http://93.184.215.14:8080/"), false).is_ok());
        assert!(check_url(&url("https://[2606:4700::1111]/"), false).is_ok());
        // Names are the resolver's business.
        assert!(check_url(&url("http://localhost/"), false).is_ok());

        let err = check_url(&url("ftp://example.com/"), false).unwrap_err();
        assert!(err.contains("`http` or `https`"), "{err}");
        assert!(check_url(&url("file:///etc/passwd"), true).is_err());

        for literal in [
            "http://127.0.0.1:9000/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://[fd00:ec2::254]/",
            // The URL parser reads these as IPv4 literals, as browsers do.
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0/",
        ] {
            let err = check_url(&url(literal), false).unwrap_err();
            assert!(
                err.contains("allow_private_destinations"),
                "{literal}: {err}"
            );
            assert!(check_url(&url(literal), true).is_ok(), "{literal}");
        }
    }

    #[tokio::test]
    async fn resolving_names_is_checked() {
        let err = check_host_resolves(&url("http://localhost:8080/"), false)
            .await
            .unwrap_err();
        assert!(err.contains("`localhost` resolves to a private"), "{err}");
        assert!(
            check_host_resolves(&url("http://localhost:8080/"), true)
                .await
                .is_ok()
        );
        let err = check_stored_url(&url("http://localhost:8080/"), false)
            .await
            .unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");
        let err = check_stored_url(&url("http://10.1.2.3/"), false)
            .await
            .unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");
        // A name that does not resolve is the preflight check's business.
        assert!(
            check_stored_url(&url("https://no-such-host.invalid/"), false)
                .await
                .is_ok()
        );
    }
}
