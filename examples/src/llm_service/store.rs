//! In-memory storage of prompts and runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// One version of a prompt template.
#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    /// The prompt's name, e.g. `greet`.
    pub name: String,
    /// Its version, starting at 1.
    pub version: u32,
    /// The template with `{{variable}}` placeholders.
    pub template: String,
}

/// One execution of a prompt.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Sequence number across all runs.
    pub id: u64,
    /// The prompt's name.
    pub prompt: String,
    /// The version that was run.
    pub version: u32,
    /// The rendered input.
    pub input: String,
    /// The model's answer.
    pub output: String,
}

/// Prompts and runs, shared between requests.
#[derive(Debug, Clone, Default)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    prompts: HashMap<String, Vec<Prompt>>,
    runs: Vec<Run>,
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every write is one push).
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Store a new version of `name`; versions must grow.
    pub fn add_prompt(&self, prompt: Prompt) -> Result<(), String> {
        let mut inner = self.lock();
        let versions = inner.prompts.entry(prompt.name.clone()).or_default();
        if versions.iter().any(|p| p.version >= prompt.version) {
            return Err(format!(
                "prompt {} already has version {} or later",
                prompt.name, prompt.version
            ));
        }
        versions.push(prompt);
        Ok(())
    }

    /// The given version of `name`, or its latest.
    pub fn prompt(&self, name: &str, version: Option<u32>) -> Option<Prompt> {
        let inner = self.lock();
        let versions = inner.prompts.get(name)?;
        match version {
            Some(v) => versions.iter().find(|p| p.version == v).cloned(),
            None => versions.last().cloned(),
        }
    }

    /// Record a run and return it with its id.
    pub fn add_run(&self, prompt: &Prompt, input: String, output: String) -> Run {
        let mut inner = self.lock();
        let run = Run {
            id: inner.runs.len() as u64 + 1,
            prompt: prompt.name.clone(),
            version: prompt.version,
            input,
            output,
        };
        inner.runs.push(run.clone());
        run
    }

    /// Every run of `name`, oldest first.
    pub fn runs(&self, name: &str) -> Vec<Run> {
        self.lock()
            .runs
            .iter()
            .filter(|r| r.prompt == name)
            .cloned()
            .collect()
    }
}
