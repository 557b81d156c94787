//! What the span learns from the request before the handler runs.

use std::net::SocketAddr;

use opentelemetry::{KeyValue, StringValue, Value};

use crate::http::attributes::*;
use crate::http::redact::redact_query;

/// Attributes shared by the span and the duration metric.
pub(crate) struct RequestFacts {
    pub(crate) method: Value,
    pub(crate) route: Option<StringValue>,
    pub(crate) scheme: &'static str,
    pub(crate) protocol: &'static str,
}

/// Build the span name and its start attributes.
pub(crate) fn describe<B>(
    req: &http::Request<B>,
    route: Option<&str>,
) -> (String, Vec<KeyValue>, RequestFacts) {
    let mut attrs = Vec::with_capacity(14);
    let method: Value = match known_method(req.method()) {
        Some(m) => Value::from(m),
        None => {
            attrs.push(KeyValue::new(
                HTTP_REQUEST_METHOD_ORIGINAL,
                req.method().as_str().to_owned(),
            ));
            Value::from("_OTHER")
        }
    };
    let method_name = match &method {
        Value::String(s) if s.as_str() == "_OTHER" => "HTTP",
        Value::String(s) => s.as_str(),
        _ => "HTTP",
    };
    let name = match route {
        Some(route) => {
            let mut name = String::with_capacity(method_name.len() + 1 + route.len());
            name.push_str(method_name);
            name.push(' ');
            name.push_str(route);
            name
        }
        None => method_name.to_owned(),
    };
    attrs.push(KeyValue::new(HTTP_REQUEST_METHOD, method.clone()));
    let route_value = route.map(|r| StringValue::from(r.to_owned()));
    if let Some(r) = &route_value {
        attrs.push(KeyValue::new(HTTP_ROUTE, Value::String(r.clone())));
    }
    let uri = req.uri();
    attrs.push(KeyValue::new(URL_PATH, uri.path().to_owned()));
    if let Some(query) = uri.query() {
        attrs.push(KeyValue::new(URL_QUERY, redact_query(query).into_owned()));
    }
    let scheme = match uri.scheme_str() {
        Some("https") => "https",
        _ => "http",
    };
    attrs.push(KeyValue::new(URL_SCHEME, scheme));
    let headers = req.headers();
    let host = uri.authority().map(|a| a.as_str()).or_else(|| {
        headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
    });
    if let Some(host) = host {
        let (address, port) = split_host_port(host);
        attrs.push(KeyValue::new(SERVER_ADDRESS, address.to_owned()));
        if let Some(port) = port {
            attrs.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    if let Some(client) = client_address(req) {
        attrs.push(KeyValue::new(CLIENT_ADDRESS, client));
    }
    if let Some(agent) = headers
        .get(http::header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
    {
        attrs.push(KeyValue::new(USER_AGENT_ORIGINAL, agent.to_owned()));
    }
    let protocol = protocol_version(req.version());
    attrs.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, protocol));
    if let Some(len) = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|h| h.to_str().ok())
        .and_then(|s| s.parse::<i64>().ok())
    {
        attrs.push(KeyValue::new(HTTP_REQUEST_BODY_SIZE, len));
    }
    (
        name,
        attrs,
        RequestFacts {
            method,
            route: route_value,
            scheme,
            protocol,
        },
    )
}

fn split_host_port(host: &str) -> (&str, Option<u16>) {
    // IPv6 literals are bracketed: [::1]:8080
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr, port);
        }
        return (host, None);
    }
    match host.rsplit_once(':') {
        Some((addr, port)) => match port.parse() {
            Ok(port) => (addr, Some(port)),
            Err(_) => (host, None),
        },
        None => (host, None),
    }
}

/// The original client: the first `X-Forwarded-For` entry, else the peer address when the
/// server was started with `into_make_service_with_connect_info::<SocketAddr>()`.
fn client_address<B>(req: &http::Request<B>) -> Option<String> {
    if let Some(forwarded) = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return Some(forwarded.to_owned());
    }
    req.extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}
