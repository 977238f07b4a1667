//! The one HTTPS client every AWS client of a connection shares, with a bound on how many
//! requests are in flight at once.
//!
//! Shared, because an SDK client made without one builds its own: a fresh connection pool (no
//! keep-alive across the per-region clients a sweep makes, so a TLS handshake per request) and
//! the trusted roots parsed again each time a client is made.
//!
//! Bounded, because a sweep of many accounts asks for thousands of answers together (20
//! accounts × 17 regions × a dozen kinds); each open request holds a socket, and a process past
//! its open-file limit fails every later request with "Too many open files", log readers and
//! the journal included. Past the bound a request waits for a slot, which costs a little
//! latency and nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// The most requests in flight whatever the open-file limit allows: at 100 ms an answer,
/// 10 000 requests a second, past what one machine's CPU keeps up with (`benches/accounts.rs`).
pub const MOST_IN_FLIGHT: usize = 1024;
/// The fewest, however low the limit (below it a sweep of one account queues).
pub const FEWEST_IN_FLIGHT: usize = 32;
/// Files kept for everything else: trail logs being read, the journal, the terminal, the
/// game day's emulator pipes.
const RESERVE: u64 = 256;

/// Raises the process's soft open-file limit to its hard limit (capped at 65 536, which is
/// more than keyspill can use) and returns the soft limit now in force. On a platform without
/// the limit, or when it cannot be read, `None`.
// `rlim_t` is not u64 on every unix.
#[allow(clippy::unnecessary_cast)]
pub fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        let want = lim.rlim_max.min(65_536);
        if want > lim.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: lim.rlim_max,
            };
            // SAFETY: setrlimit reads the struct we pass; a refusal leaves the limit as it was.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                return Some(want as u64);
            }
        }
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The bound for an open-file limit: half of what is left after the reserve (a finished
/// request's connection stays open, idle, for the next one), between [`FEWEST_IN_FLIGHT`]
/// and [`MOST_IN_FLIGHT`]. `KEYSPILL_MAX_IN_FLIGHT` overrides it, for a host whose other
/// limits (a NAT gateway's connections, a proxy) are lower.
pub fn in_flight_for(open_files: Option<u64>) -> usize {
    if let Some(n) = std::env::var("KEYSPILL_MAX_IN_FLIGHT")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    match open_files {
        Some(n) => (n.saturating_sub(RESERVE) / 2)
            .try_into()
            .unwrap_or(MOST_IN_FLIGHT)
            .clamp(FEWEST_IN_FLIGHT, MOST_IN_FLIGHT),
        None => 512,
    }
}

/// The HTTPS client for one connection (as the SDK's default: rustls, a proxy from the
/// usual environment variables), with at most `most` requests in flight through it.
pub fn client(most: usize) -> SharedHttpClient {
    SharedHttpClient::new(Client {
        connectors: Arc::new(Mutex::new(HashMap::new())),
        slots: Arc::new(Semaphore::new(most.max(1))),
    })
}

/// A connector (its connection pool) per distinct pair of timeouts: every client of one
/// connection asks with the same pair, so there is one.
type Connectors = HashMap<(Option<Duration>, Option<Duration>), SharedHttpConnector>;

#[derive(Debug, Clone)]
struct Client {
    connectors: Arc<Mutex<Connectors>>,
    slots: Arc<Semaphore>,
}

impl HttpClient for Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let inner = {
            let mut connectors = self
                .connectors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            connectors
                .entry(key)
                .or_insert_with(|| {
                    let mut b = ConnectorBuilder::default()
                        .tls_provider(Provider::Rustls(CryptoMode::AwsLc));
                    b.set_connector_settings(Some(settings.clone()));
                    b.set_sleep_impl(components.sleep_impl());
                    b.set_proxy_config(Some(ProxyConfig::from_env()));
                    SharedHttpConnector::new(b.build())
                })
                .clone()
        };
        SharedHttpConnector::new(LimitedConnector {
            inner,
            slots: Arc::clone(&self.slots),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    slots: Arc<Semaphore>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let slots = Arc::clone(&self.slots);
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so a slot always comes; held until the answer's
            // head is in (its body is read on the same connection after).
            let _slot = slots.acquire_owned().await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_open_file_limit_within_its_floor_and_ceiling() {
        assert_eq!(in_flight_for(Some(256)), FEWEST_IN_FLIGHT);
        assert_eq!(in_flight_for(Some(1024)), 384);
        assert_eq!(in_flight_for(Some(2304)), 1024);
        assert_eq!(in_flight_for(Some(2303)), 1023);
        assert_eq!(in_flight_for(Some(1 << 20)), MOST_IN_FLIGHT);
        assert_eq!(in_flight_for(None), 512);
    }

    #[derive(Debug, Default)]
    struct Counting {
        now: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
    }

    #[derive(Debug, Clone)]
    struct Slow(Arc<Counting>);

    impl HttpConnector for Slow {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            use std::sync::atomic::Ordering::SeqCst;
            let c = Arc::clone(&self.0);
            HttpConnectorFuture::new(async move {
                let now = c.now.fetch_add(1, SeqCst) + 1;
                c.peak.fetch_max(now, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                c.now.fetch_sub(1, SeqCst);
                Ok(aws_smithy_runtime_api::http::Response::new(
                    200u16.try_into().expect("200 is a status"),
                    aws_smithy_types::body::SdkBody::empty(),
                ))
            })
        }
    }

    #[tokio::test]
    async fn no_more_than_the_bound_are_in_flight_and_every_request_is_answered() {
        let counting = Arc::new(Counting::default());
        let limited = Arc::new(LimitedConnector {
            inner: SharedHttpConnector::new(Slow(Arc::clone(&counting))),
            slots: Arc::new(Semaphore::new(4)),
        });
        let mut all = Vec::new();
        for _ in 0..40 {
            let l = Arc::clone(&limited);
            all.push(tokio::spawn(async move {
                l.call(HttpRequest::get("http://127.0.0.1/").expect("a request"))
                    .await
            }));
        }
        let mut answered = 0;
        for t in all {
            if t.await.expect("no panic").is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 40);
        assert_eq!(counting.peak.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn raising_the_limit_never_lowers_it() {
        let before = {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: as in raise_open_files.
            assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
            lim.rlim_cur as u64
        };
        let after = raise_open_files().expect("a unix host has the limit");
        assert!(after >= before, "{after} < {before}");
    }
}
