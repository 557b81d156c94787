//! Configuration errors: every bad value is refused with a message naming the variable and
//! the value, never a panic. (No pipeline is started here, so these run in-process.)

use spanforge::{Config, InitError};

fn env_error(vars: &[(&str, &str)]) -> InitError {
    Config::from_vars(vars.iter().copied()).expect_err("configuration must be refused")
}

fn init_error(config: Config) -> InitError {
    spanforge::init(config).expect_err("init must refuse the configuration")
}

#[test]
fn an_unparsable_endpoint_names_the_variable_and_value() {
    let config = Config::from_vars([("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).unwrap();
    let err = init_error(config);
    assert!(matches!(err, InitError::InvalidEndpoint { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid OTLP endpoint in OTEL_EXPORTER_OTLP_ENDPOINT: \"collector:4317\": missing scheme; write http://host:port or https://host:port"
    );

    let config =
        Config::from_vars([("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://exa mple")]).unwrap();
    let err = init_error(config).to_string();
    assert!(
        err.starts_with(
            "invalid OTLP endpoint in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: \"http://exa mple\""
        ),
        "{err}"
    );

    let err = init_error(Config::default().with_otlp_endpoint("ftp://collector")).to_string();
    assert!(
        err.contains("Config::with_otlp_endpoint")
            && err.contains("scheme `ftp` is not http or https"),
        "{err}"
    );
}

#[test]
fn credentials_in_an_endpoint_url_are_refused() {
    let err =
        init_error(Config::default().with_otlp_endpoint("https://user:secret@collector:4318"));
    assert!(
        err.to_string()
            .contains("credentials in the URL are not allowed"),
        "{err}"
    );
}

#[test]
fn an_unknown_protocol_is_refused() {
    let err = env_error(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml")]);
    assert_eq!(
        err.to_string(),
        "invalid value for OTEL_EXPORTER_OTLP_PROTOCOL: \"http/xml\": unknown protocol; expected grpc, http/protobuf or http/json"
    );
    let err = env_error(&[("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "udp")]);
    assert!(
        err.to_string().contains("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"),
        "{err}"
    );
}

#[test]
fn an_unknown_sampler_or_a_bad_ratio_is_refused() {
    let err = env_error(&[("OTEL_TRACES_SAMPLER", "sometimes")]);
    assert!(
        err.to_string()
            .starts_with("invalid value for OTEL_TRACES_SAMPLER: \"sometimes\": unknown sampler"),
        "{err}"
    );
    for bad in ["1.5", "-0.1", "half", "NaN"] {
        let err = env_error(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", bad),
        ]);
        assert_eq!(
            err.to_string(),
            format!(
                "invalid value for OTEL_TRACES_SAMPLER_ARG: \"{bad}\": expected a ratio between 0.0 and 1.0"
            )
        );
    }
    let err = init_error(Config::default().with_sampler(spanforge::Sampler::TraceIdRatio(2.0)));
    assert!(err.to_string().contains("Config::with_sampler"), "{err}");
}

#[test]
fn malformed_headers_are_refused_without_echoing_secrets() {
    let config =
        Config::from_vars([("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t,broken")]).unwrap();
    let err = init_error(config).to_string();
    assert_eq!(
        err,
        "malformed header list in OTEL_EXPORTER_OTLP_HEADERS: entry 2: expected key=value"
    );
    assert!(!err.contains("s3cr3t"));

    let config = Config::from_vars([("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad name=x")]).unwrap();
    let err = init_error(config).to_string();
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1: header name"),
        "{err}"
    );

    let config = Config::from_vars([("OTEL_EXPORTER_OTLP_HEADERS", "a=%FF%FE")]).unwrap();
    assert!(init_error(config).to_string().contains("not valid UTF-8"));
}

#[test]
fn malformed_resource_attributes_are_refused() {
    let err = env_error(&[("OTEL_RESOURCE_ATTRIBUTES", "team=core,oops")]);
    assert_eq!(
        err.to_string(),
        "invalid value for OTEL_RESOURCE_ATTRIBUTES: \"oops\": expected key=value"
    );
    let err = env_error(&[("OTEL_RESOURCE_ATTRIBUTES", "=x")]);
    assert!(err.to_string().contains("empty attribute key"), "{err}");
}

#[test]
fn other_bad_values_name_their_variable() {
    for (var, value, expected) in [
        ("OTEL_SDK_DISABLED", "yes", "expected `true` or `false`"),
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "0",
            "expected a positive whole number",
        ),
        (
            "OTEL_BSP_SCHEDULE_DELAY",
            "5s",
            "expected a whole number of milliseconds",
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "-1",
            "expected a whole number of milliseconds",
        ),
        (
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "brotli",
            "unknown compression",
        ),
        ("OTEL_TRACES_EXPORTER", "jaeger", "unknown exporter"),
        ("OTEL_PROPAGATORS", "b3", "unsupported propagator"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0", "greater than zero"),
        (
            "SPANFORGE_LOG_FORMAT",
            "xml",
            "expected full, compact, json or none",
        ),
        ("RUST_LOG", "info,[", ""),
    ] {
        let err = env_error(&[(var, value)]).to_string();
        assert!(
            err.contains(var) && err.contains(expected),
            "{var}={value}: {err}"
        );
    }
}

#[test]
fn empty_variables_count_as_unset() {
    let config = Config::from_vars([
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "  "),
    ]);
    assert!(config.is_ok());
}

#[test]
fn debug_output_never_shows_header_values() {
    let config = Config::from_vars([(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer%20tok-123",
    )])
    .unwrap()
    .with_otlp_header("x-api-key", "key-456");
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("tok-123") && !debug.contains("key-456"),
        "{debug}"
    );
}

#[test]
fn a_malformed_pricing_file_stops_init_with_the_line_and_reason() {
    let dir = std::env::temp_dir().join(format!("spanforge-pricing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("prices.toml");
    std::fs::write(
        &path,
        "[models.\"acme-chat\"]\ninput = 1.0\noutput = \"cheap\"\n",
    )
    .unwrap();
    let config = Config::from_vars([("SPANFORGE_PRICING_FILE", path.to_str().unwrap())]).unwrap();
    let err = init_error(config);
    assert!(matches!(err, InitError::Pricing(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("SPANFORGE_PRICING_FILE: "), "{message}");
    assert!(
        message.contains("prices.toml") && message.contains("line 3"),
        "{message}"
    );

    let missing = Config::default().with_pricing_file(dir.join("absent.json"));
    let message = init_error(missing).to_string();
    assert!(
        message.contains("cannot read pricing file") && message.contains("absent.json"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
