//! Cross-site request forgery defence for cookie-authenticated writes. SameSite=Strict already
//! keeps the cookie off most cross-site requests; this is the second layer OWASP recommends:
//! a state-changing request authenticated by the cookie must say, in `Origin` (or failing that
//! `Referer`), that it comes from the collector's own pages. Browsers set `Origin` on every
//! cross-origin request and on same-origin POST/PUT/DELETE, and a page cannot forge it.
//! Bearer-token requests are exempt: a browser never attaches a token by itself.

/// A normalized web origin: lower-case scheme and authority, default port removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebOrigin {
    scheme: String,
    authority: String,
}

impl WebOrigin {
    /// The origin of `url` (`https://logs.example:8443/path` → `https://logs.example:8443`);
    /// `None` for opaque origins (`null`) and anything that is not http(s).
    pub fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = rest
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let authority = strip_default_port(&scheme, &authority).to_owned();
        Some(Self { scheme, authority })
    }

    /// `scheme://authority`, the base of links the collector sends out (alert notifications).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// Whether a request to `host` (its `Host` header) is addressed to this origin's authority.
    fn matches_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        strip_default_port(&self.scheme, &host) == self.authority
    }
}

fn strip_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// What a request says about where it comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOrigin<'a> {
    /// `Origin` header.
    pub origin: Option<&'a str>,
    /// `Referer` header (used only without `Origin`).
    pub referer: Option<&'a str>,
    /// `Host` header (HTTP/1.1) or the `:authority` of HTTP/2.
    pub host: Option<&'a str>,
}

impl RequestOrigin<'_> {
    /// Whether the request names any source at all.
    pub fn is_declared(&self) -> bool {
        self.origin.is_some() || self.referer.is_some()
    }

    /// Whether the declared source is the collector itself: the `Host` the request was sent to,
    /// or `public` (`--public-url`, for deployments where a proxy rewrites `Host`). A missing or
    /// opaque source is not.
    pub fn is_same_origin(&self, public: Option<&WebOrigin>) -> bool {
        let source = match (self.origin, self.referer) {
            (Some(o), _) => WebOrigin::parse(o),
            (None, Some(r)) => WebOrigin::parse(r),
            (None, None) => None,
        };
        let Some(source) = source else {
            return false;
        };
        public.is_some_and(|p| *p == source) || self.host.is_some_and(|h| source.matches_host(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(
        origin: Option<&'a str>,
        referer: Option<&'a str>,
        host: &'a str,
    ) -> RequestOrigin<'a> {
        RequestOrigin {
            origin,
            referer,
            host: Some(host),
        }
    }

    #[test]
    fn origins_normalize() {
        assert_eq!(
            WebOrigin::parse("HTTPS://Logs.Example:443/x?y"),
            WebOrigin::parse("https://logs.example")
        );
        assert_ne!(
            WebOrigin::parse("http://logs.example"),
            WebOrigin::parse("https://logs.example")
        );
        for opaque in [
            "null",
            "file:///etc",
            "javascript:x",
            "https://",
            "https://u@h",
        ] {
            assert_eq!(WebOrigin::parse(opaque), None, "{opaque}");
        }
    }

    #[test]
    fn the_own_host_is_same_origin() {
        let host = "127.0.0.1:8080";
        assert!(req(Some("http://127.0.0.1:8080"), None, host).is_same_origin(None));
        assert!(req(Some("http://logs.example"), None, "logs.example:80").is_same_origin(None));
        assert!(req(None, Some("http://127.0.0.1:8080/ui/logs"), host).is_same_origin(None));
        assert!(
            !req(
                Some("https://evil.example"),
                Some("http://127.0.0.1:8080/"),
                host
            )
            .is_same_origin(None),
            "Origin wins over Referer"
        );
        assert!(!req(Some("http://127.0.0.1:9090"), None, host).is_same_origin(None));
        assert!(!req(Some("null"), None, host).is_same_origin(None));
        assert!(!req(None, None, host).is_same_origin(None));
        assert!(!req(Some("http://127.0.0.1:8080.evil.example"), None, host).is_same_origin(None));
    }

    #[test]
    fn a_public_url_is_accepted_behind_a_rewriting_proxy() {
        let public = WebOrigin::parse("https://logs.example/").expect("origin");
        let r = req(Some("https://logs.example"), None, "10.0.0.5:8080");
        assert!(r.is_same_origin(Some(&public)));
        assert!(!r.is_same_origin(None));
        let other = req(Some("http://logs.example"), None, "10.0.0.5:8080");
        assert!(!other.is_same_origin(Some(&public)), "scheme must match");
    }
}
