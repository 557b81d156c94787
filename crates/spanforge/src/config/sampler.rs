//! The trace sampler choice (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).

use opentelemetry_sdk::trace::Sampler as SdkSampler;

use super::env::EnvSource;
use crate::InitError;

/// Which traces are recorded and exported.
///
/// The names match the values of `OTEL_TRACES_SAMPLER`. The default is
/// [`Sampler::ParentBasedAlwaysOn`]: a trace continues the sampling decision of its remote
/// parent and samples every new root.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Sampler {
    /// `always_on`: record every span.
    AlwaysOn,
    /// `always_off`: record nothing.
    AlwaysOff,
    /// `traceidratio`: record this share (0.0 to 1.0) of traces, chosen by trace id.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    #[default]
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: follow the parent; sample this share of new roots.
    ParentBasedTraceIdRatio(f64),
}

impl Sampler {
    pub(crate) fn from_env(env: &EnvSource) -> Result<Option<Sampler>, InitError> {
        const VAR: &str = "OTEL_TRACES_SAMPLER";
        const ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
        let Some(name) = env.get(VAR) else {
            return Ok(None);
        };
        let ratio = || -> Result<f64, InitError> {
            match env.get(ARG) {
                None => Ok(1.0),
                Some(raw) => match raw.parse::<f64>() {
                    Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                    _ => Err(InitError::invalid(
                        ARG,
                        &raw,
                        "expected a ratio between 0.0 and 1.0",
                    )),
                },
            }
        };
        let sampler = match name.to_ascii_lowercase().as_str() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(ratio()?),
            "parentbased_always_on" => Sampler::ParentBasedAlwaysOn,
            "parentbased_always_off" => Sampler::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => Sampler::ParentBasedTraceIdRatio(ratio()?),
            _ => {
                return Err(InitError::invalid(
                    VAR,
                    &name,
                    "unknown sampler; expected one of always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
                ));
            }
        };
        Ok(Some(sampler))
    }

    pub(crate) fn validate(&self) -> Result<(), InitError> {
        match *self {
            Sampler::TraceIdRatio(r) | Sampler::ParentBasedTraceIdRatio(r)
                if !(0.0..=1.0).contains(&r) =>
            {
                Err(InitError::invalid(
                    "Config::with_sampler",
                    &r.to_string(),
                    "expected a ratio between 0.0 and 1.0",
                ))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn to_sdk(self) -> SdkSampler {
        match self {
            Sampler::AlwaysOn => SdkSampler::AlwaysOn,
            Sampler::AlwaysOff => SdkSampler::AlwaysOff,
            Sampler::TraceIdRatio(r) => SdkSampler::TraceIdRatioBased(r),
            Sampler::ParentBasedAlwaysOn => SdkSampler::ParentBased(Box::new(SdkSampler::AlwaysOn)),
            Sampler::ParentBasedAlwaysOff => {
                SdkSampler::ParentBased(Box::new(SdkSampler::AlwaysOff))
            }
            Sampler::ParentBasedTraceIdRatio(r) => {
                SdkSampler::ParentBased(Box::new(SdkSampler::TraceIdRatioBased(r)))
            }
        }
    }
}
