//! The prompt template a call was rendered from.

/// A reference to a stored prompt template: recorded as `gen_ai.prompt.name`,
/// `gen_ai.prompt.version` (an int) and `gen_ai.prompt.template.id`, and the name and version
/// label the cost counter so cost can be summed per prompt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PromptRef {
    /// The template's name, e.g. `greet`.
    pub name: String,
    /// Its version. An integer, because Langfuse links prompts by integer version; use
    /// [`template_id`](PromptRef::template_id) for a hash or other identifier.
    pub version: Option<i64>,
    /// An identifier of the template itself (a content hash, a database id).
    pub template_id: Option<String>,
}

impl PromptRef {
    /// A prompt with a name and a version.
    pub fn new(name: impl Into<String>, version: i64) -> PromptRef {
        PromptRef {
            name: name.into(),
            version: Some(version),
            template_id: None,
        }
    }

    /// A prompt known by name only.
    pub fn named(name: impl Into<String>) -> PromptRef {
        PromptRef {
            name: name.into(),
            version: None,
            template_id: None,
        }
    }

    /// The template's identifier.
    pub fn with_template_id(mut self, id: impl Into<String>) -> PromptRef {
        self.template_id = Some(id.into());
        self
    }
}
