#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod otlp;

pub use otlp::{
    AttrValue, Attributes, Fault, OtlpReceiver, OtlpReceiverBuilder, ReceivedLog, ReceivedMetric,
    ReceivedSpan, RequestLog, RequestRecord, Signal, WaitTimeout,
};
