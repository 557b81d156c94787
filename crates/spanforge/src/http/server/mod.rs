//! The server layer: one SERVER span and one duration measurement per request.

pub(crate) mod body;
pub(crate) mod future;
mod layer;
mod request;
mod service;

pub use layer::{ServerLayer, ServerLayerBuilder};
pub use service::ServerService;
