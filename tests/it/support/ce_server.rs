//! A stand-in for Cost Explorer where moto falls short: an HTTP/1.1 server on a free loopback
//! port speaking the AWS JSON 1.1 protocol the SDK uses (`POST /`,
//! `X-Amz-Target: AWSInsightsIndexService.<Operation>`,
//! `Content-Type: application/x-amz-json-1.1`).
//!
//! - Serves `GetAnomalyMonitors`, `GetAnomalies` (both missing in moto) and
//!   `GetCostAndUsage`, each from pages the test sets up. A page that is not the last carries
//!   a `NextPageToken`; tokens are opaque and bound to the operation (and, for
//!   `GetCostAndUsage`, to the grouping) they came from. Answers are shaped like the real API
//!   (`AnomalyMonitors[]`, `Anomalies[]` with `Impact`, `AnomalyScore`, `RootCauses[]`;
//!   `ResultsByTime[]`, `GroupDefinitions[]`).
//! - `GetCostAndUsage` pages are chosen by the request's grouping: `""` for none, else the
//!   `GroupBy[0].Key` (`SERVICE`, `REGION`). A grouping with no pages gets an empty answer.
//! - An operation can be denied (HTTP 400 `AccessDeniedException`, the message naming
//!   `ce:<Operation>` as AWS does) or made to fail with any status and error code.
//! - Every request is logged: operation, parsed body, the region and service of the SigV4
//!   credential scope, when it arrived and when it was answered. An optional delay before
//!   answering, and a count of requests in flight at once, show whether a client ever has
//!   more than one request outstanding.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::{Request as HttpRequest, Response, Server, credential_scope};

/// The JSON 1.1 target prefix of Cost Explorer (botocore and the Rust SDK agree).
pub const TARGET_PREFIX: &str = "AWSInsightsIndexService.";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation, without the target prefix (`GetAnomalies`).
    pub operation: String,
    pub body: Value,
    /// The region of the SigV4 credential scope (empty when unsigned).
    pub region: String,
    /// The service of the SigV4 credential scope (`ce`).
    pub service: String,
    pub arrived: Instant,
    pub answered: Instant,
    pub status: u16,
}

#[derive(Debug, Default)]
struct State {
    monitor_pages: Vec<Vec<Value>>,
    anomaly_pages: Vec<Vec<Value>>,
    /// Grouping key (`""`, `SERVICE`, `REGION`) → pages of `ResultsByTime` entries.
    cost_pages: HashMap<String, Vec<Vec<Value>>>,
    denied: HashSet<String>,
    failing: HashMap<String, (u16, String)>,
    delay: Duration,
    log: Vec<Request>,
    in_flight: usize,
    max_in_flight: usize,
}

/// The server; it stops accepting when dropped.
pub struct CeServer {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl CeServer {
    pub fn start() -> CeServer {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let server = Server::start(move |req| {
            let (status, body) = answer(req, &shared);
            Response::json(status, body)
        });
        CeServer { server, state }
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `GetAnomalyMonitors` answers these pages of `AnomalyMonitors` entries, in order.
    pub fn set_monitor_pages(&self, pages: Vec<Vec<Value>>) {
        self.lock().monitor_pages = pages;
    }

    /// `GetAnomalies` answers these pages of `Anomalies` entries, in order.
    pub fn set_anomaly_pages(&self, pages: Vec<Vec<Value>>) {
        self.lock().anomaly_pages = pages;
    }

    /// `GetCostAndUsage` grouped by `group` (`""` for no grouping) answers these pages of
    /// `ResultsByTime` entries, in order.
    pub fn set_cost_pages(&self, group: &str, pages: Vec<Vec<Value>>) {
        self.lock().cost_pages.insert(group.to_string(), pages);
    }

    /// From now on `operation` (`GetAnomalies`) is answered with AccessDeniedException.
    pub fn deny(&self, operation: &str) {
        self.lock().denied.insert(operation.to_string());
    }

    /// From now on `operation` is answered with HTTP `status` and error `code`.
    pub fn fail(&self, operation: &str, status: u16, code: &str) {
        self.lock()
            .failing
            .insert(operation.to_string(), (status, code.to_string()));
    }

    /// Every request is held this long before it is answered.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        let mut log = self.lock().log.clone();
        log.sort_by_key(|r| r.arrived);
        log
    }

    /// The operations asked, in arrival order.
    pub fn operations(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.operation).collect()
    }

    /// The most requests that were ever being handled at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn error(code: &str, message: &str) -> String {
    json!({"__type": code, "Message": message}).to_string()
}

fn answer(req: &HttpRequest, state: &Mutex<State>) -> (u16, String) {
    let arrived = Instant::now();
    let operation = req
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .unwrap_or("")
        .to_string();
    let (region, service) = credential_scope(req)
        .map(|(_, region, service)| (region, service))
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let delay = {
        let mut st = lock(state);
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        st.delay
    };
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    let mut st = lock(state);
    let (status, out) = if req.method != "POST" || req.path != "/" {
        (404, error("UnknownOperationException", "POST / only"))
    } else {
        decide(&operation, &body, &st)
    };
    st.in_flight -= 1;
    st.log.push(Request {
        operation,
        body,
        region,
        service,
        arrived,
        answered: Instant::now(),
        status,
    });
    (status, out)
}

/// The page a `NextPageToken` points at: tokens are `<scope>#<page index>`.
fn page_index(body: &Value, scope: &str) -> Result<usize, (u16, String)> {
    match body["NextPageToken"].as_str() {
        None => Ok(0),
        Some(t) => t
            .strip_prefix(scope)
            .and_then(|rest| rest.strip_prefix('#'))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                (
                    400,
                    error(
                        "InvalidNextTokenException",
                        "The token is not valid for this request",
                    ),
                )
            }),
    }
}

/// Page `index` of `pages` under `field`, with a token to the next page when there is one.
fn paged(field: &str, pages: &[Vec<Value>], scope: &str, index: usize) -> Value {
    let items = pages.get(index).cloned().unwrap_or_default();
    let mut out = json!({ field: items });
    if index + 1 < pages.len() {
        out["NextPageToken"] = Value::String(format!("{scope}#{}", index + 1));
    }
    out
}

fn decide(operation: &str, body: &Value, st: &State) -> (u16, String) {
    if st.denied.contains(operation) {
        let msg = format!(
            "User: arn:aws:iam::123456789012:user/responder is not authorized to perform: \
             ce:{operation}"
        );
        return (400, error("AccessDeniedException", &msg));
    }
    if let Some((status, code)) = st.failing.get(operation) {
        return (*status, error(code, "the test made this operation fail"));
    }
    let result = match operation {
        "GetAnomalyMonitors" => page_index(body, "monitors")
            .map(|i| paged("AnomalyMonitors", &st.monitor_pages, "monitors", i)),
        "GetAnomalies" => {
            if body["DateInterval"]["StartDate"].as_str().is_none() {
                return (
                    400,
                    error("ValidationException", "DateInterval.StartDate is required"),
                );
            }
            page_index(body, "anomalies")
                .map(|i| paged("Anomalies", &st.anomaly_pages, "anomalies", i))
        }
        "GetCostAndUsage" => {
            let group = body["GroupBy"][0]["Key"].as_str().unwrap_or("").to_string();
            let scope = format!("cost-{group}");
            let empty = Vec::new();
            let pages = st.cost_pages.get(&group).unwrap_or(&empty);
            page_index(body, &scope).map(|i| {
                let mut out = paged("ResultsByTime", pages, &scope, i);
                out["DimensionValueAttributes"] = json!([]);
                if !group.is_empty() {
                    out["GroupDefinitions"] = json!([{"Type": "DIMENSION", "Key": group}]);
                }
                out
            })
        }
        _ => {
            return (
                400,
                error(
                    "UnknownOperationException",
                    &format!("{operation:?} is not served here"),
                ),
            );
        }
    };
    match result {
        Ok(v) => (200, v.to_string()),
        Err(e) => e,
    }
}
