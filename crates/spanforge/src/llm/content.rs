//! Content capture: whether prompts and answers become span attributes, how large they may
//! be, and a redaction hook applied before anything is recorded.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use serde::Serialize;
use serde_json::Value;

/// Rewrites captured text before it is recorded: mask e-mail addresses, card numbers,
/// customer names.
///
/// It is called once per text value: message text, reasoning, each string inside tool-call
/// arguments, tool results and tool definitions. Structural fields (`role`, `type`, `id`,
/// `name`, `finish_reason`, …) are not passed to it. A closure `Fn(&str) -> String` is a
/// redactor; `()` records text unchanged.
///
/// ```
/// use spanforge::llm::ContentCapture;
/// let capture = ContentCapture::enabled()
///     .with_redactor(|text: &str| text.replace("4111 1111 1111 1111", "[card]"));
/// # let _ = capture;
/// ```
pub trait Redact: Send + Sync + 'static {
    /// The text to record in place of `text`.
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str>;
}

impl<F> Redact for F
where
    F: Fn(&str) -> String + Send + Sync + 'static,
{
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        Cow::Owned(self(text))
    }
}

impl Redact for () {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(text)
    }
}

/// What is appended to a value cut to fit the size cap.
pub const TRUNCATION_MARKER: &str = "…[truncated]";

/// Whether message content is recorded on spans, capped and redacted.
///
/// Content (`gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`,
/// `gen_ai.tool.definitions`, `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`) is
/// **off by default**: prompts hold personal data and secrets. Turn it on with
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` (read by
/// [`from_env`](ContentCapture::from_env), which is the process default), or in code.
///
/// When on, each attribute is the JSON the semantic conventions define, with every text
/// value passed through the [`Redact`] hook, and is cut to at most
/// [`max_length`](ContentCapture::max_length) bytes (default 16 KiB, or
/// `SPANFORGE_GENAI_CONTENT_MAX_LENGTH`) while staying valid JSON: the longest texts are
/// shortened first and end with [`TRUNCATION_MARKER`]; if that is not enough, the oldest
/// messages are dropped.
///
/// A `ContentCapture` is a cheap handle; clone it freely.
#[derive(Clone)]
pub struct ContentCapture {
    enabled: bool,
    max_length: usize,
    redactor: Option<Arc<dyn Redact>>,
}

impl fmt::Debug for ContentCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentCapture")
            .field("enabled", &self.enabled)
            .field("max_length", &self.max_length)
            .field("redactor", &self.redactor.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

impl Default for ContentCapture {
    /// Off.
    fn default() -> Self {
        ContentCapture::disabled()
    }
}

/// The smallest cap accepted: room for the JSON structure of a message or two.
const MIN_MAX_LENGTH: usize = 256;

static GLOBAL: RwLock<Option<ContentCapture>> = RwLock::new(None);

impl ContentCapture {
    /// The variable that turns capture on (`true`, any case); anything else leaves it off.
    pub const ENV_VAR: &'static str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
    /// The variable that sets the cap in bytes per attribute.
    pub const MAX_LENGTH_ENV_VAR: &'static str = "SPANFORGE_GENAI_CONTENT_MAX_LENGTH";
    /// The default cap: 16 KiB per attribute.
    pub const DEFAULT_MAX_LENGTH: usize = 16 * 1024;

    /// Capture off.
    pub fn disabled() -> ContentCapture {
        ContentCapture {
            enabled: false,
            max_length: Self::DEFAULT_MAX_LENGTH,
            redactor: None,
        }
    }

    /// Capture on, with the default cap and no redaction.
    pub fn enabled() -> ContentCapture {
        ContentCapture {
            enabled: true,
            ..ContentCapture::disabled()
        }
    }

    /// From `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` and
    /// `SPANFORGE_GENAI_CONTENT_MAX_LENGTH`. An unparsable length is ignored (default cap).
    pub fn from_env() -> ContentCapture {
        Self::from_values(
            std::env::var(Self::ENV_VAR).ok().as_deref(),
            std::env::var(Self::MAX_LENGTH_ENV_VAR).ok().as_deref(),
        )
    }

    fn from_values(enabled: Option<&str>, max_length: Option<&str>) -> ContentCapture {
        let enabled = enabled.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let mut capture = if enabled {
            ContentCapture::enabled()
        } else {
            ContentCapture::disabled()
        };
        if let Some(max) = max_length.and_then(|v| v.trim().parse::<usize>().ok()) {
            capture = capture.with_max_length(max);
        }
        capture
    }

    /// Turns capture on or off.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// The cap per attribute, in bytes of JSON (at least 256).
    pub fn with_max_length(mut self, bytes: usize) -> Self {
        self.max_length = bytes.max(MIN_MAX_LENGTH);
        self
    }

    /// The redaction hook, applied to every text value before it is recorded.
    pub fn with_redactor(mut self, redactor: impl Redact) -> Self {
        self.redactor = Some(Arc::new(redactor));
        self
    }

    /// Whether content is recorded.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The cap per attribute, in bytes.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The process-wide default: what [`set_global`](ContentCapture::set_global) installed,
    /// else [`from_env`](ContentCapture::from_env) (read once).
    pub fn global() -> ContentCapture {
        if let Some(capture) = GLOBAL
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            return capture.clone();
        }
        static FROM_ENV: OnceLock<ContentCapture> = OnceLock::new();
        FROM_ENV.get_or_init(ContentCapture::from_env).clone()
    }

    /// Installs the process-wide default used by every generation and client that was not
    /// given its own (typically at startup, to add a redactor).
    pub fn set_global(capture: ContentCapture) {
        *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(capture);
    }

    /// `value` as capped, redacted JSON; `None` when capture is off or the value does not
    /// serialize.
    pub(crate) fn capture<T: Serialize + ?Sized>(&self, value: &T) -> Option<String> {
        if !self.enabled {
            return None;
        }
        if self.redactor.is_none() {
            // Straight from the types (fields in declaration order) when nothing changes.
            let text = serde_json::to_string(value).ok()?;
            if text.len() <= self.max_length {
                return Some(text);
            }
        }
        // Redaction and truncation work on a JSON tree (keys then come out sorted).
        let mut value = serde_json::to_value(value).ok()?;
        if let Some(redactor) = &self.redactor {
            redact_value(&mut value, redactor.as_ref());
        }
        fit(value, self.max_length)
    }
}

/// Keys whose string values are structure, not content.
fn is_structural(key: &str) -> bool {
    matches!(
        key,
        "type" | "role" | "id" | "name" | "finish_reason" | "modality" | "mime_type"
    )
}

fn redact_value(value: &mut Value, redactor: &dyn Redact) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(new) = redactor.redact(s) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, redactor)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if v.is_string() && is_structural(key) {
                    continue;
                }
                redact_value(v, redactor);
            }
        }
        _ => {}
    }
}

/// Serialized `value`, shortened to at most `max` bytes while staying valid JSON.
fn fit(mut value: Value, max: usize) -> Option<String> {
    let mut text = serde_json::to_string(&value).ok()?;
    // Shorten the longest texts first.
    for _ in 0..64 {
        if text.len() <= max {
            return Some(text);
        }
        let excess = text.len() - max;
        let Some(longest) = longest_content(&mut value) else {
            break;
        };
        let keep = longest
            .len()
            .saturating_sub(excess + TRUNCATION_MARKER.len());
        let mut cut = keep;
        while cut > 0 && !longest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 && longest.ends_with(TRUNCATION_MARKER) {
            // Already cut to nothing: drop whole messages below.
            break;
        }
        longest.truncate(cut);
        longest.push_str(TRUNCATION_MARKER);
        text = serde_json::to_string(&value).ok()?;
    }
    // Then drop the oldest messages of an array.
    while text.len() > max {
        match &mut value {
            Value::Array(items) if items.len() > 1 => {
                items.remove(0);
            }
            _ => return None,
        }
        text = serde_json::to_string(&value).ok()?;
    }
    Some(text)
}

/// The longest non-structural string in `value` that is still worth cutting.
fn longest_content(value: &mut Value) -> Option<&mut String> {
    fn walk<'a>(value: &'a mut Value, structural: bool, best: &mut Option<&'a mut String>) {
        match value {
            Value::String(s)
                if !structural
                    && s.len() > TRUNCATION_MARKER.len()
                    && best.as_ref().is_none_or(|b| s.len() > b.len()) =>
            {
                *best = Some(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, false, best)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    walk(v, is_structural(key), best);
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    walk(value, false, &mut best);
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;

    #[test]
    fn env_values() {
        assert!(!ContentCapture::from_values(None, None).is_enabled());
        assert!(!ContentCapture::from_values(Some("1"), None).is_enabled());
        assert!(!ContentCapture::from_values(Some("false"), None).is_enabled());
        assert!(ContentCapture::from_values(Some("true"), None).is_enabled());
        assert!(ContentCapture::from_values(Some(" TRUE "), None).is_enabled());
        let c = ContentCapture::from_values(Some("true"), Some("1000"));
        assert_eq!(c.max_length(), 1000);
        let c = ContentCapture::from_values(Some("true"), Some("junk"));
        assert_eq!(c.max_length(), ContentCapture::DEFAULT_MAX_LENGTH);
    }

    #[test]
    fn off_records_nothing() {
        assert_eq!(
            ContentCapture::disabled().capture(&[Message::user("hi")]),
            None
        );
    }

    #[test]
    fn truncation_keeps_json_valid_and_within_the_cap() {
        let long = "é".repeat(5_000);
        let messages = vec![Message::system("be brief"), Message::user(long)];
        let text = ContentCapture::enabled()
            .with_max_length(1_000)
            .capture(&messages)
            .unwrap();
        assert!(text.len() <= 1_000, "{}", text.len());
        let parsed: Vec<Message> = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed[0].text(), "be brief");
        assert!(parsed[1].text().ends_with(TRUNCATION_MARKER));
    }

    #[test]
    fn many_messages_drop_the_oldest() {
        let messages: Vec<Message> = (0..200).map(|i| Message::user(format!("m{i}"))).collect();
        let text = ContentCapture::enabled()
            .with_max_length(300)
            .capture(&messages)
            .unwrap();
        assert!(text.len() <= 300);
        let parsed: Vec<Message> = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.last().unwrap().text(), "m199");
    }

    #[test]
    fn redaction_skips_structure() {
        let capture = ContentCapture::enabled().with_redactor(|t: &str| t.to_uppercase());
        let text = capture
            .capture(&[Message::tool_result("call_1", "secret")])
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            serde_json::json!([{"role": "tool", "parts": [
                {"type": "tool_call_response", "id": "call_1", "response": "SECRET"}
            ]}])
        );
        assert_eq!(
            ContentCapture::enabled()
                .capture(&[Message::user("hi")])
                .unwrap(),
            r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#
        );
    }
}
