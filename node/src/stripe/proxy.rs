//! The outbound proxy: settings, credentials (basic, or digest challenge and response), and the
//! CONNECT handshake.
//!
//! reqwest only knows basic proxy credentials and only tunnels https targets, so the node dials
//! proxies itself (see transport.rs): digest needs the proxy's 407 challenge before the
//! credentials can be computed, and TUNNEL needs CONNECT for http targets too.

use std::sync::Mutex;

use base64::Engine;
use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::{ProxyArgs, ProxyAuthScheme, ProxySslType};
use crate::secret::{Secret, SecretFile};

/// Largest CONNECT response head accepted from a proxy.
const MAX_HEAD: usize = 16 * 1024;

pub struct Proxy {
    pub host: String,
    pub port: u16,
    pub ssl_type: ProxySslType,
    credentials: Option<Credentials>,
    /// The last digest challenge; its nonce is reused (with a growing nonce count) until the proxy
    /// answers 407 again, e.g. because the nonce went stale.
    challenge: Mutex<Option<WwwAuthenticateHeader>>,
}

struct Credentials {
    scheme: ProxyAuthScheme,
    user: String,
    password: Secret,
    /// The base64 of `user:password` that basic credentials send, itself a secret.
    basic: Secret,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Proxy")
            .field("address", &self.address())
            .field("ssl_type", &self.ssl_type)
            .field("scheme", &self.scheme())
            .finish()
    }
}

impl Proxy {
    /// The proxy from its flags, or `None` when no proxy host is set. Errors name the flag.
    /// `stripe_base_url` is where the calls go (NEVER is refused for https).
    pub fn from_args(args: &ProxyArgs, stripe_base_url: &str) -> anyhow::Result<Option<Self>> {
        let Some(host) = args.host.clone().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let port = args
            .port
            .ok_or_else(|| anyhow::anyhow!("--proxy-port is required when --proxy-host is set"))?;
        if args.ssl_type == ProxySslType::Never && stripe_base_url.starts_with("https:") {
            anyhow::bail!(
                "--proxy-ssl-type NEVER: the Stripe base URL {stripe_base_url} is https, and NEVER \
                 would hand the request (with the API key) to the proxy in clear text; use AUTO or \
                 TUNNEL, which keep TLS end to end through a CONNECT tunnel"
            );
        }
        let credentials = match args.auth_scheme {
            ProxyAuthScheme::None => None,
            scheme => {
                let user = args.user.clone().filter(|u| !u.is_empty()).ok_or_else(|| {
                    anyhow::anyhow!("--proxy-user is required with --proxy-auth-scheme {scheme:?}")
                })?;
                let path = args.password_file.as_ref().ok_or_else(|| {
                    anyhow::anyhow!(
                        "--proxy-password-file is required with --proxy-auth-scheme {scheme:?}"
                    )
                })?;
                // Read once: the operator rolls the nodes when the password changes.
                let password = SecretFile::open("--proxy-password-file", path)?.current();
                Some(Credentials {
                    basic: Secret::new(basic_token(&user, password.expose())),
                    scheme,
                    user,
                    password,
                })
            }
        };
        Ok(Some(Self {
            host,
            port,
            ssl_type: args.ssl_type,
            credentials,
            challenge: Mutex::new(None),
        }))
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn scheme(&self) -> ProxyAuthScheme {
        self.credentials
            .as_ref()
            .map_or(ProxyAuthScheme::None, |c| c.scheme)
    }

    /// Whether a call to this target goes through a CONNECT tunnel (else it is forwarded).
    pub fn tunnels(&self, https_target: bool) -> bool {
        match self.ssl_type {
            ProxySslType::Tunnel => true,
            ProxySslType::Never => false,
            ProxySslType::Auto | ProxySslType::Always => https_target,
        }
    }

    /// Whether the connection to the proxy itself is TLS.
    pub fn tls_to_proxy(&self) -> bool {
        self.ssl_type == ProxySslType::Always
    }

    /// `Proxy-Authorization` for a request: basic always, digest once a challenge is known.
    pub fn authorization(&self, method: &str, uri: &str) -> Option<String> {
        let c = self.credentials.as_ref()?;
        match c.scheme {
            ProxyAuthScheme::None => None,
            ProxyAuthScheme::Basic => Some(format!("Basic {}", c.basic.expose())),
            ProxyAuthScheme::Digest => {
                let mut guard = self.challenge.lock().unwrap_or_else(|p| p.into_inner());
                let challenge = guard.as_mut()?;
                let context = AuthContext::new_with_method(
                    c.user.as_str(),
                    c.password.expose(),
                    uri,
                    None::<&[u8]>,
                    HttpMethod(method.to_string().into()),
                );
                challenge
                    .respond(&context)
                    .ok()
                    .map(|h| h.to_header_string())
            }
        }
    }

    /// Learns the digest challenge of a 407; true when answering it may succeed (one more try).
    pub fn learn_challenge<'a>(&self, proxy_authenticate: impl Iterator<Item = &'a str>) -> bool {
        if self.scheme() != ProxyAuthScheme::Digest {
            return false;
        }
        let parsed = proxy_authenticate
            .filter(|v| v.trim_start().to_ascii_lowercase().starts_with("digest"))
            .find_map(|v| digest_auth::parse(v).ok());
        let learned = parsed.is_some();
        if let Some(p) = parsed {
            *self.challenge.lock().unwrap_or_else(|p| p.into_inner()) = Some(p);
        }
        learned
    }

    /// Sends CONNECT for `authority` over `io` and reads the proxy's answer. Only the head is read:
    /// after a 200 the stream carries the tunnelled bytes.
    pub async fn connect<S>(
        &self,
        io: &mut S,
        authority: &str,
    ) -> std::io::Result<(u16, Vec<String>)>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(value) = self.authorization("CONNECT", authority) {
            request.push_str(&format!("Proxy-Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        io.write_all(request.as_bytes()).await?;
        io.flush().await?;
        read_head(io).await
    }
}

fn basic_token(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Reads a response head byte by byte (so nothing of the tunnel is consumed) and returns the
/// status and the `Proxy-Authenticate` values. httparse does the parsing.
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> std::io::Result<(u16, Vec<String>)> {
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() >= MAX_HEAD {
            return Err(invalid("proxy answer head too large"));
        }
        if io.read(&mut byte).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection during CONNECT",
            ));
        }
        buf.push(byte[0]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    response
        .parse(&buf)
        .map_err(|e| invalid(&format!("bad proxy answer: {e}")))?;
    let status = response
        .code
        .ok_or_else(|| invalid("proxy answer without status"))?;
    let challenges = response
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("proxy-authenticate"))
        .filter_map(|h| std::str::from_utf8(h.value).ok().map(str::to_string))
        .collect();
    Ok((status, challenges))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(scheme: ProxyAuthScheme, ssl_type: ProxySslType) -> Proxy {
        Proxy {
            host: "127.0.0.1".into(),
            port: 3128,
            ssl_type,
            credentials: Some(Credentials {
                scheme,
                user: "alice".into(),
                password: Secret::new("pw-secret"),
                basic: Secret::new(basic_token("alice", "pw-secret")),
            }),
            challenge: Mutex::new(None),
        }
    }

    #[test]
    fn ssl_types_choose_tunnel_or_forwarding() {
        let cases = [
            (ProxySslType::Auto, true, true),
            (ProxySslType::Auto, false, false),
            (ProxySslType::Always, true, true),
            (ProxySslType::Always, false, false),
            (ProxySslType::Never, false, false),
            (ProxySslType::Tunnel, false, true),
            (ProxySslType::Tunnel, true, true),
        ];
        for (ssl, https, tunnel) in cases {
            assert_eq!(
                proxy(ProxyAuthScheme::None, ssl).tunnels(https),
                tunnel,
                "{ssl:?} {https}"
            );
        }
        assert!(proxy(ProxyAuthScheme::None, ProxySslType::Always).tls_to_proxy());
    }

    #[test]
    fn digest_answers_only_after_a_challenge_and_counts_nonces() {
        let p = proxy(ProxyAuthScheme::Digest, ProxySslType::Auto);
        assert_eq!(p.authorization("CONNECT", "h:443"), None);
        assert!(!p.learn_challenge(["Basic realm=\"x\""].into_iter()));
        assert!(p.learn_challenge(["Digest realm=\"r\", nonce=\"abc\", qop=\"auth\""].into_iter()));
        let first = p.authorization("CONNECT", "h:443").unwrap();
        let second = p.authorization("CONNECT", "h:443").unwrap();
        assert!(first.starts_with("Digest ") && first.contains("username=\"alice\""));
        assert!(
            first.contains("nc=00000001") && second.contains("nc=00000002"),
            "{first} {second}"
        );
        assert!(!first.contains("pw-secret"));
    }

    #[test]
    fn basic_needs_no_challenge_and_debug_hides_the_password() {
        let p = proxy(ProxyAuthScheme::Basic, ProxySslType::Auto);
        assert_eq!(
            p.authorization("GET", "http://x/").unwrap(),
            "Basic YWxpY2U6cHctc2VjcmV0"
        );
        assert!(!p.learn_challenge(["Digest nonce=\"n\""].into_iter()));
        assert!(!format!("{p:?}").contains("pw-secret"));
    }
}
