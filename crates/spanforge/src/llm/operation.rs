//! The kind of GenAI operation a span records.

use std::fmt;

/// The `gen_ai.operation.name` of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// A chat completion (`chat`).
    Chat,
    /// A legacy text completion (`text_completion`).
    TextCompletion,
    /// An embeddings call (`embeddings`).
    Embeddings,
    /// Running a tool the model asked for (`execute_tool`; an INTERNAL span).
    ExecuteTool,
    /// A multimodal content generation call, as Gemini names it (`generate_content`).
    GenerateContent,
}

impl Operation {
    /// The semantic-convention value.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Chat => "chat",
            Operation::TextCompletion => "text_completion",
            Operation::Embeddings => "embeddings",
            Operation::ExecuteTool => "execute_tool",
            Operation::GenerateContent => "generate_content",
        }
    }

    /// Whether the operation produces output tokens (everything but embeddings and tools).
    pub(crate) fn has_output_tokens(self) -> bool {
        !matches!(self, Operation::Embeddings | Operation::ExecuteTool)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
