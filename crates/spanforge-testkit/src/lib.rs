#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod http1_thread;
pub mod langfuse;
pub mod llm;
pub mod otlp;
pub mod ports;
pub mod turso;

pub use langfuse::{FakeLangfuse, FakeResponse, LangfuseRequest, LangfuseSpan};
pub use llm::{FakeLlm, Reply};
pub use otlp::{
    AttrValue, Attributes, Fault, OtlpReceiver, OtlpReceiverBuilder, ReceivedLog, ReceivedMetric,
    ReceivedSpan, RequestLog, RequestRecord, Signal, WaitTimeout,
};
pub use turso::{HranaExchange, Sqld, TursoFault, TursoProxy};
