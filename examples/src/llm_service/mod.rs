//! A small prompt-platform service: prompts with versions, runs of a prompt, health checks.
//!
//! It is modelled on a prompt-engineering backend: `POST /prompts` stores a versioned
//! template, `POST /prompts/{name}/run` renders it with variables and records the run.
//! Prompts and runs live in libSQL (a local file); an optional Redis caches each prompt's
//! latest version. The run calls the model configured by the environment (see [`llm`]).

pub mod llm;
mod routes;
mod store;
mod template;

pub use routes::router;
pub use store::{Prompt, Run, RunUsage, Store, StoreError};
pub use template::render;
