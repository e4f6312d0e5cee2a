//! Which agency systems the engine may reach: an allow-list of origins (`host:port`) set by
//! the operator, against which every configured base URL is checked before an adapter is
//! built. A base URL must name a listed origin exactly as listed — so decimal, hexadecimal,
//! octal or shortened spellings of an address (`2130706433`, `0x7f000001`, `127.1`), other
//! loopback aliases (`localhost`, `127.0.0.2`, `[::1]`) and other ports are refused — and
//! link-local, unspecified and multicast addresses are refused even when listed (cloud
//! metadata endpoints live there). Redirects are never followed (see [`crate::http`]), so an
//! allowed agency cannot send the engine elsewhere either.

use reqwest::Url;
use std::net::IpAddr;

/// The origins adapters may be configured to call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    origins: Vec<String>,
}

impl Allowlist {
    /// Entries are `host:port` (`127.0.0.1:7101`, `hotich.example.gov.vn:443`).
    pub fn new<I, S>(entries: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut origins = Vec::new();
        for e in entries {
            let e = e.as_ref().trim().to_ascii_lowercase();
            let Some((host, port)) = e.rsplit_once(':') else {
                return Err(format!("allow-list entry `{e}`: write it as host:port"));
            };
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(format!("allow-list entry `{e}`: write it as host:port"));
            }
            origins.push(e);
        }
        Ok(Allowlist { origins })
    }

    /// The listed origins.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Checks one configured base URL; the error names what is wrong with it.
    pub fn check(&self, base_url: &str) -> Result<Url, String> {
        let url = Url::parse(base_url).map_err(|e| format!("base URL `{base_url}`: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "base URL `{base_url}`: only http and https are allowed"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "base URL `{base_url}`: credentials belong in the auth settings, not the URL"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "base URL `{base_url}`: no query or fragment allowed"
            ));
        }
        // The authority exactly as written, before any normalisation of the address.
        let written = base_url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .unwrap_or("")
            .to_ascii_lowercase();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("base URL `{base_url}`: no port"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("base URL `{base_url}`: no host"))?;
        let normalised = format!("{host}:{port}").to_ascii_lowercase();
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
            && forbidden(ip)
        {
            return Err(format!(
                "base URL `{base_url}`: {ip} is a link-local, unspecified or multicast address"
            ));
        }
        let listed = |o: &str| self.origins.iter().any(|x| x == o);
        let as_written =
            if written.contains(':') || written.starts_with('[') && written.ends_with(']') {
                written.clone()
            } else {
                format!("{written}:{port}")
            };
        if as_written != normalised || !listed(&normalised) {
            return Err(format!(
                "base URL `{base_url}`: `{written}` is not on the allow-list ({})",
                self.origins.join(", ")
            ));
        }
        Ok(url)
    }
}

/// Addresses no adapter may reach, listed or not.
fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| forbidden(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_as_written() {
        let a = Allowlist::new(["127.0.0.1:7101", "hotich.example.gov.vn:443"]).expect("list");
        assert!(a.check("http://127.0.0.1:7101").is_ok());
        assert!(a.check("http://127.0.0.1:7101/api/").is_ok());
        assert!(a.check("https://hotich.example.gov.vn/api").is_ok());
        for bad in [
            "http://127.0.0.1:7102",
            "http://localhost:7101",
            "http://127.0.0.2:7101",
            "http://127.1:7101",
            "http://2130706433:7101",
            "http://0x7f000001:7101",
            "http://0177.0.0.1:7101",
            "http://[::1]:7101",
            "http://[::ffff:127.0.0.1]:7101",
            "http://169.254.169.254:80",
            "http://0.0.0.0:7101",
            "http://user:pw@127.0.0.1:7101",
            "file:///etc/passwd",
            "http://127.0.0.1:7101?x=1",
            "not a url",
        ] {
            assert!(a.check(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn link_local_refused_even_when_listed() {
        let a = Allowlist::new(["169.254.169.254:80"]).expect("list");
        let e = a.check("http://169.254.169.254:80").expect_err("refused");
        assert!(e.contains("link-local"), "{e}");
    }

    #[test]
    fn malformed_entries_are_named() {
        let e = Allowlist::new(["127.0.0.1"]).expect_err("no port");
        assert!(e.contains("127.0.0.1"), "{e}");
    }
}
