//! A small prompt-platform service: prompts with versions, runs of a prompt, health checks.
//!
//! It is modelled on a prompt-engineering backend: `POST /prompts` stores a versioned
//! template, `POST /prompts/{name}/run` renders it with variables and records the run.

mod routes;
mod store;
mod template;

pub use routes::router;
pub use store::{Prompt, Run, Store};
pub use template::render;
