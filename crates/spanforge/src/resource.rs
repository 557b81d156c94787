//! The resource: who is emitting the telemetry.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{ResourceDetector, TelemetryResourceDetector};

use crate::Config;

/// Build the resource from the configuration and the host.
///
/// `service.name` comes from, in order: [`Config::with_service_name`] or `OTEL_SERVICE_NAME`;
/// `service.name` in `OTEL_RESOURCE_ATTRIBUTES`; `unknown_service:<executable>`.
pub(crate) fn build(config: &Config) -> Resource {
    let executable = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let from_attributes = |key: &str| {
        config
            .resource_attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    let service_name = config
        .service_name
        .clone()
        .or_else(|| from_attributes("service.name"))
        .unwrap_or_else(|| {
            format!(
                "unknown_service:{}",
                executable.as_deref().unwrap_or("rust")
            )
        });

    let mut attrs: Vec<KeyValue> = vec![
        KeyValue::new("service.instance.id", uuid::Uuid::new_v4().to_string()),
        KeyValue::new("telemetry.distro.name", "spanforge"),
        KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.runtime.name", "rust"),
        KeyValue::new("os.type", std::env::consts::OS),
        KeyValue::new("host.arch", host_arch()),
    ];
    if let Some(exe) = executable {
        attrs.push(KeyValue::new("process.executable.name", exe));
    }
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new("host.name", host));
    }
    // Explicit attributes win over detected ones; the builder's named settings win over both.
    attrs.extend(config.resource_attributes.iter().cloned());
    if let Some(version) = &config.service_version {
        attrs.push(KeyValue::new("service.version", version.clone()));
    }
    if let Some(env) = &config.deployment_environment {
        attrs.push(KeyValue::new("deployment.environment.name", env.clone()));
    }

    let telemetry = TelemetryResourceDetector.detect();
    Resource::builder_empty()
        .with_attributes(
            telemetry
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_attributes(attrs)
        .with_service_name(service_name)
        .build()
}

fn host_arch() -> &'static str {
    // Semantic-convention values, not Rust's target names.
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}
