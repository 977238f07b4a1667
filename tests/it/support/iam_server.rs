//! A stand-in for IAM's `SimulatePrincipalPolicy`, which moto lacks: an HTTP/1.1 server on a
//! free loopback port speaking the AWS query protocol the SDK uses for IAM (`POST /`,
//! `Content-Type: application/x-www-form-urlencoded`, `Action=…&Version=2010-05-08&…`; XML
//! answers in the `https://iam.amazonaws.com/doc/2010-05-08/` namespace).
//!
//! - Answers each requested `ActionNames.member.N`, in request order, with the decision the
//!   test set for it (`implicitDeny` when it set none), `page_size` results a page. A page that
//!   is not the last has `IsTruncated` true and a `Marker`; markers are opaque (`m<offset>`)
//!   and one that is not the server's is refused (HTTP 400 `InvalidInput`).
//! - The principal (`PolicySourceArn`) must be given; a missing one is refused like AWS does
//!   (HTTP 400 `ValidationError`).
//! - It can deny: HTTP 403 `ErrorResponse` with `AccessDenied`, the message naming
//!   `iam:SimulatePrincipalPolicy` as AWS does.
//! - Every request is logged with its decoded form parameters.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::http::{Request as HttpRequest, Response, Server};

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// One request's form parameters, decoded, in the order they came.
#[derive(Debug, Clone)]
pub struct Request {
    pub params: Vec<(String, String)>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query-protocol list (`ActionNames` → `ActionNames.member.1`, `.2`…), in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut members: Vec<(usize, String)> = self
            .params
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        members.sort();
        members.into_iter().map(|(_, v)| v).collect()
    }
}

#[derive(Debug)]
struct State {
    decisions: HashMap<String, String>,
    page_size: usize,
    denied: bool,
    log: Vec<Request>,
}

/// The server; it stops accepting when dropped.
pub struct IamServer {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl IamServer {
    pub fn start() -> IamServer {
        let state = Arc::new(Mutex::new(State {
            decisions: HashMap::new(),
            page_size: 100,
            denied: false,
            log: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let server = Server::start(move |req| {
            let (status, body) = answer(req, &shared);
            Response {
                status,
                content_type: "text/xml",
                body,
            }
        });
        IamServer { server, state }
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The simulator's `EvalDecision` for `action` (any text: an unknown one is sent as is).
    pub fn decide(&self, action: &str, decision: &str) {
        self.lock()
            .decisions
            .insert(action.to_string(), decision.to_string());
    }

    /// At most this many results a page.
    pub fn set_page_size(&self, n: usize) {
        self.lock().page_size = n.max(1);
    }

    /// From now on every request is refused with AccessDenied.
    pub fn deny(&self) {
        self.lock().denied = true;
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().log.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `application/x-www-form-urlencoded` → pairs (`+` is a space, `%XX` a byte).
fn form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error(status: u16, kind: &str, code: &str, message: &str) -> (u16, String) {
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{code}</Code>\
             <Message>{}</Message></Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE\
             </RequestId></ErrorResponse>",
            escape(message)
        ),
    )
}

fn answer(req: &HttpRequest, state: &Mutex<State>) -> (u16, String) {
    let request = Request {
        params: form(&req.body),
    };
    let mut st = lock(state);
    st.log.push(request.clone());
    if req.method != "POST" || req.path != "/" {
        return error(404, "Sender", "InvalidAction", "POST / only");
    }
    if request.param("Action") != Some("SimulatePrincipalPolicy")
        || request.param("Version") != Some("2010-05-08")
    {
        return error(
            400,
            "Sender",
            "InvalidAction",
            "Could not find operation for this version",
        );
    }
    if st.denied {
        return error(
            403,
            "Sender",
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/responder is not authorized to perform: \
             iam:SimulatePrincipalPolicy on resource: user dev",
        );
    }
    if request.param("PolicySourceArn").is_none() {
        return error(
            400,
            "Sender",
            "ValidationError",
            "1 validation error detected: Value null at 'policySourceArn' failed to satisfy \
             constraint: Member must not be null",
        );
    }
    let actions = request.list("ActionNames");
    let start = match request.param("Marker") {
        None => 0,
        Some(m) => match m.strip_prefix('m').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n < actions.len() => n,
            _ => return error(400, "Sender", "InvalidInput", "Invalid Marker"),
        },
    };
    let end = (start + st.page_size).min(actions.len());
    let mut results = String::new();
    for action in &actions[start..end] {
        let decision = st
            .decisions
            .get(action)
            .map_or("implicitDeny", String::as_str);
        let matched = if decision == "implicitDeny" {
            "<MatchedStatements/>".to_string()
        } else {
            "<MatchedStatements><member><SourcePolicyId>inline-policy</SourcePolicyId>\
             <SourcePolicyType>user</SourcePolicyType><StartPosition><Line>1</Line>\
             <Column>1</Column></StartPosition><EndPosition><Line>1</Line>\
             <Column>80</Column></EndPosition></member></MatchedStatements>"
                .to_string()
        };
        results.push_str(&format!(
            "<member>{matched}<MissingContextValues/><EvalResourceName>*</EvalResourceName>\
             <EvalDecision>{}</EvalDecision><EvalActionName>{}</EvalActionName>\
             <ResourceSpecificResults/></member>",
            escape(decision),
            escape(action)
        ));
    }
    let more = end < actions.len();
    let marker = if more {
        format!("<Marker>m{end}</Marker>")
    } else {
        String::new()
    };
    (
        200,
        format!(
            "<SimulatePrincipalPolicyResponse xmlns=\"{NAMESPACE}\">\
             <SimulatePrincipalPolicyResult><IsTruncated>{more}</IsTruncated>{marker}\
             <EvaluationResults>{results}</EvaluationResults></SimulatePrincipalPolicyResult>\
             <ResponseMetadata><RequestId>8b3e2f1c-0d7a-4b61-9f0e-5a2d1c6eEXAMPLE</RequestId>\
             </ResponseMetadata></SimulatePrincipalPolicyResponse>"
        ),
    )
}
