//! The pricing table: the built-in data, files that override it, and model lookup.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::compute::Cost;
use super::error::{InvalidPrice, PricingError, PricingFileError, UnknownModel};
use super::format::{self, Document, PricingFormat, PricingMeta};
use super::hash::FxBuildHasher;
use super::price::ModelPrice;
use super::resolve::{self, MatchKind};
use super::unknown;
use super::usage::Usage;

/// The built-in table, compiled into the binary.
const BUILTIN_TOML: &str = include_str!("pricing.toml");

/// A table of model prices with model-name resolution.
///
/// A `Pricing` is a cheap handle (an `Arc`): clone it freely. Changing a clone
/// ([`insert`](Pricing::insert)) copies the table first and leaves other handles as they are.
///
/// ```
/// use spanforge::cost::{Pricing, Usage};
///
/// let pricing = Pricing::builtin();
/// let resolved = pricing.resolve("openai/gpt-4o-2024-08-06")?;
/// assert_eq!(resolved.model(), "gpt-4o");
/// let cost = resolved.price().cost(&Usage::from_openai(1_000, 200, 0, 0));
/// assert!(cost.total > 0.0);
/// # Ok::<(), spanforge::cost::UnknownModel>(())
/// ```
#[derive(Clone)]
pub struct Pricing {
    table: Arc<Table>,
}

#[derive(Clone, Default)]
struct Table {
    meta: PricingMeta,
    models: BTreeMap<String, ModelPrice>,
    aliases: BTreeMap<String, String>,
    /// Every model and alias name → the canonical model name and whether it is an alias.
    index: HashMap<Box<str>, Slot, FxBuildHasher>,
    /// Which (length, last byte) pairs the index holds: most candidate names that are
    /// not in the table are rejected here without hashing.
    filter: Filter,
}

/// A 1024-bit set over (length, last byte) of the index keys.
#[derive(Clone, Default)]
struct Filter([u64; 16]);

impl Filter {
    fn bit(name: &str) -> usize {
        let last = name.as_bytes().last().copied().unwrap_or(0) as usize;
        (name.len().wrapping_mul(31) ^ last.wrapping_mul(0x9e)) % 1024
    }

    fn insert(&mut self, name: &str) {
        let bit = Self::bit(name);
        self.0[bit / 64] |= 1 << (bit % 64);
    }

    fn may_contain(&self, name: &str) -> bool {
        let bit = Self::bit(name);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

#[derive(Clone)]
struct Slot {
    model: Box<str>,
    price: ModelPrice,
    alias: bool,
}

/// The result of a successful [`Pricing::resolve`].
#[derive(Debug, Clone, Copy)]
pub struct ResolvedModel<'a> {
    model: &'a str,
    price: &'a ModelPrice,
    matched: MatchKind,
}

impl<'a> ResolvedModel<'a> {
    /// The table's name for the model (e.g. `gpt-4o` for `azure/gpt-4o-2024-08-06`).
    pub fn model(&self) -> &'a str {
        self.model
    }

    /// The model's prices.
    pub fn price(&self) -> &'a ModelPrice {
        self.price
    }

    /// Which resolution step found it.
    pub fn matched(&self) -> MatchKind {
        self.matched
    }

    /// The cost of `usage` at this model's prices.
    pub fn cost(&self, usage: &Usage) -> Cost {
        self.price.cost(usage)
    }
}

impl Pricing {
    /// The environment variable naming a pricing file to merge over the built-in table
    /// (read by [`Pricing::from_env`]).
    pub const ENV_VAR: &'static str = "SPANFORGE_PRICING_FILE";

    /// The built-in table, parsed on first use and shared afterwards.
    pub fn builtin() -> &'static Pricing {
        static BUILTIN: OnceLock<Pricing> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            match Pricing::load(BUILTIN_TOML, PricingFormat::Toml, None, None) {
                Ok(pricing) => pricing,
                Err(error) => {
                    // Cannot happen with the shipped file (a test parses it); stay usable.
                    tracing::error!(
                        name: "spanforge.cost.builtin_pricing_invalid",
                        %error,
                        "built-in pricing table is invalid; no costs will be computed"
                    );
                    Pricing::empty()
                }
            }
        })
    }

    /// An empty table: every lookup is unknown.
    pub fn empty() -> Pricing {
        Pricing {
            table: Arc::new(Table::default()),
        }
    }

    /// The built-in table, with the file named by `SPANFORGE_PRICING_FILE` merged over it
    /// when that variable is set and not empty.
    ///
    /// # Errors
    ///
    /// The file can't be read, has an unknown extension, or is malformed (the error names
    /// the line and the reason).
    pub fn from_env() -> Result<Pricing, PricingError> {
        match std::env::var_os(Self::ENV_VAR) {
            Some(path) if !path.is_empty() => {
                Self::builtin().with_overrides_from_file(Path::new(&path))
            }
            _ => Ok(Self::builtin().clone()),
        }
    }

    /// A table read from a `.json` or `.toml` file, on its own (not merged with the
    /// built-in table; see [`with_overrides_from_file`](Pricing::with_overrides_from_file)).
    ///
    /// # Errors
    ///
    /// The file can't be read, has an unknown extension, or is malformed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Pricing, PricingError> {
        let path = path.as_ref();
        let (text, format) = read(path)?;
        Ok(Self::load(&text, format, Some(path), None)?)
    }

    /// A table parsed from JSON text.
    ///
    /// # Errors
    ///
    /// The text is malformed; the error names the line and the reason.
    pub fn from_json_str(text: &str) -> Result<Pricing, PricingFileError> {
        Self::load(text, PricingFormat::Json, None, None)
    }

    /// A table parsed from TOML text.
    ///
    /// # Errors
    ///
    /// The text is malformed; the error names the line and the reason.
    pub fn from_toml_str(text: &str) -> Result<Pricing, PricingFileError> {
        Self::load(text, PricingFormat::Toml, None, None)
    }

    /// This table with the entries of a pricing file merged over it.
    ///
    /// A model in the file replaces the whole entry of the same name (give all its
    /// prices); an alias in the file may point at a model of this table.
    ///
    /// # Errors
    ///
    /// The file can't be read, has an unknown extension, or is malformed.
    pub fn with_overrides_from_file(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<Pricing, PricingError> {
        let path = path.as_ref();
        let (text, format) = read(path)?;
        Ok(Self::load(&text, format, Some(path), Some(self))?)
    }

    /// This table with the entries of a pricing document merged over it
    /// (as [`with_overrides_from_file`](Pricing::with_overrides_from_file)).
    ///
    /// # Errors
    ///
    /// The text is malformed; the error names the line and the reason.
    pub fn with_overrides_from_str(
        &self,
        text: &str,
        format: PricingFormat,
    ) -> Result<Pricing, PricingFileError> {
        Self::load(text, format, None, Some(self))
    }

    /// A new table: this one with every model and alias of `other` added, `other`'s
    /// entries winning. `other`'s metadata replaces this table's where it is set.
    ///
    /// # Errors
    ///
    /// An alias of `other` has the name of a model of this table.
    pub fn merge(&self, other: &Pricing) -> Result<Pricing, InvalidPrice> {
        let mut table = (*self.table).clone();
        table.merge_meta(&other.table.meta);
        for (name, price) in &other.table.models {
            table.put_model(name, price.clone());
        }
        for (alias, target) in &other.table.aliases {
            table.put_alias(alias, target)?;
        }
        table.reindex();
        Ok(Pricing {
            table: Arc::new(table),
        })
    }

    /// Adds or replaces the price of `model`.
    ///
    /// # Errors
    ///
    /// A price is negative, NaN or infinite, two tiers share a threshold, or the name is empty.
    pub fn insert(
        &mut self,
        model: impl Into<String>,
        price: ModelPrice,
    ) -> Result<&mut Self, InvalidPrice> {
        let model = model.into();
        if model.is_empty() {
            return Err(InvalidPrice {
                model,
                reason: "the model name is empty".to_owned(),
            });
        }
        price.validate().map_err(|reason| InvalidPrice {
            model: model.clone(),
            reason,
        })?;
        let table = Arc::make_mut(&mut self.table);
        table.put_model(&model, price);
        table.reindex();
        Ok(self)
    }

    /// Adds or replaces an alias: `alias` resolves to the model `target`.
    ///
    /// # Errors
    ///
    /// `target` is not a model of this table, or `alias` is the name of a model.
    pub fn insert_alias(
        &mut self,
        alias: impl Into<String>,
        target: impl Into<String>,
    ) -> Result<&mut Self, InvalidPrice> {
        let (alias, target) = (alias.into(), target.into());
        if !self.table.models.contains_key(&target) {
            return Err(InvalidPrice {
                model: alias,
                reason: format!("alias target `{target}` is not a model of the table"),
            });
        }
        let table = Arc::make_mut(&mut self.table);
        table.put_alias(&alias, &target)?;
        table.reindex();
        Ok(self)
    }

    /// Finds the price for a model name as providers and gateways report it.
    ///
    /// Tries, in order: the name as given; without provider prefixes (`openai/`,
    /// `azure/`, `bedrock/us.anthropic.`, `vertex_ai/` …); then without version
    /// suffixes (`-v1:0`, `@20240620`, `-latest`, `-2024-08-06`, `-20240620`, `-001`).
    /// Each step looks the name up among models and aliases. A name is never cut at
    /// any other point, so a sibling model (`gpt-4o` for `gpt-4o-mini`) is never returned.
    /// Names are compared in lower case.
    ///
    /// # Errors
    ///
    /// [`UnknownModel`] if no step finds the model. Each miss increments
    /// [`unknown_model_count`](super::unknown_model_count), and the first miss for a name
    /// logs a warning (event name [`UNKNOWN_MODEL_EVENT`](super::UNKNOWN_MODEL_EVENT)).
    pub fn resolve(&self, name: &str) -> Result<ResolvedModel<'_>, UnknownModel> {
        self.lookup(name).ok_or_else(|| {
            unknown::record(name);
            UnknownModel::new(name)
        })
    }

    /// Resolves `name` as [`resolve`](Pricing::resolve) does, but a miss is neither counted
    /// nor warned about: for tools that probe names (a CLI, a configuration check).
    pub fn lookup(&self, name: &str) -> Option<ResolvedModel<'_>> {
        if needs_normalizing(name) {
            let normalized = name.trim().to_ascii_lowercase();
            self.find(&normalized)
        } else {
            self.find(name)
        }
    }

    /// The cost of `usage` for the model `name`, or `None` for an unknown model
    /// (which is counted and warned about as in [`resolve`](Pricing::resolve)).
    pub fn cost(&self, name: &str, usage: &Usage) -> Option<Cost> {
        // As `resolve`, without building the error.
        match self.lookup(name) {
            Some(resolved) => Some(resolved.cost(usage)),
            None => {
                unknown::record(name);
                None
            }
        }
    }

    /// The entry stored under exactly this model name (no resolution, no counting).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.table.models.get(model)
    }

    /// All models, sorted by name.
    pub fn models(&self) -> impl Iterator<Item = (&str, &ModelPrice)> {
        self.table.models.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// All aliases as `(alias, model)`, sorted by alias.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.table
            .aliases
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Where the prices come from and their date.
    pub fn meta(&self) -> &PricingMeta {
        &self.table.meta
    }

    /// Number of models (aliases not counted).
    pub fn len(&self) -> usize {
        self.table.models.len()
    }

    /// Whether the table has no model.
    pub fn is_empty(&self) -> bool {
        self.table.models.is_empty()
    }

    fn find(&self, name: &str) -> Option<ResolvedModel<'_>> {
        let table = &*self.table;
        resolve::first_match(name, |candidate, step| {
            if !table.filter.may_contain(candidate) {
                return None;
            }
            table.index.get(candidate).map(|slot| ResolvedModel {
                model: &slot.model,
                price: &slot.price,
                matched: step.kind(slot.alias),
            })
        })
    }

    /// Parses `text` and, with `base`, merges it over `base`; checks every alias.
    fn load(
        text: &str,
        format: PricingFormat,
        path: Option<&Path>,
        base: Option<&Pricing>,
    ) -> Result<Pricing, PricingFileError> {
        let doc: Document = format::parse(text, format, path)?;
        let at = |key: &str, reason: String| {
            let (line, column) = format::locate_key(text, key);
            PricingFileError {
                path: path.map(Path::to_path_buf),
                line,
                column,
                reason,
            }
        };
        for (name, price) in &doc.models {
            if name.is_empty() {
                return Err(at("", "a model name is empty".to_owned()));
            }
            if doc.aliases.contains_key(name) {
                return Err(at(
                    name,
                    format!("`{name}` is defined both as a model and as an alias"),
                ));
            }
            price.validate().map_err(|reason| at(name, reason))?;
        }
        let mut table = base.map_or_else(Table::default, |b| (*b.table).clone());
        table.merge_meta(&doc.meta);
        for (name, price) in doc.models {
            table.put_model(&name, price);
        }
        for (alias, target) in &doc.aliases {
            if !table.models.contains_key(target) {
                return Err(at(
                    alias,
                    format!("alias `{alias}` points to `{target}`, which is not a model"),
                ));
            }
            table
                .put_alias(alias, target)
                .map_err(|e| at(alias, e.reason))?;
        }
        table.reindex();
        Ok(Pricing {
            table: Arc::new(table),
        })
    }
}

impl Table {
    fn merge_meta(&mut self, meta: &PricingMeta) {
        let PricingMeta {
            date,
            source,
            currency,
            unit,
        } = meta.clone();
        self.meta.date = date.or(self.meta.date.take());
        self.meta.source = source.or(self.meta.source.take());
        self.meta.currency = currency.or(self.meta.currency.take());
        self.meta.unit = unit.or(self.meta.unit.take());
    }

    /// A model replaces a model or an alias of the same name.
    fn put_model(&mut self, name: &str, price: ModelPrice) {
        self.aliases.remove(name);
        self.models.insert(name.to_owned(), price);
    }

    /// An alias replaces an alias of the same name, never a model.
    fn put_alias(&mut self, alias: &str, target: &str) -> Result<(), InvalidPrice> {
        if self.models.contains_key(alias) {
            return Err(InvalidPrice {
                model: alias.to_owned(),
                reason: format!(
                    "`{alias}` is a model; an alias cannot replace it (define the model instead)"
                ),
            });
        }
        if !self.models.contains_key(target) {
            return Err(InvalidPrice {
                model: alias.to_owned(),
                reason: format!("alias target `{target}` is not a model of the table"),
            });
        }
        self.aliases.insert(alias.to_owned(), target.to_owned());
        Ok(())
    }

    fn reindex(&mut self) {
        let mut index = HashMap::with_capacity_and_hasher(
            self.models.len() + self.aliases.len(),
            FxBuildHasher::default(),
        );
        for (name, price) in &self.models {
            index.insert(
                name.to_ascii_lowercase().into_boxed_str(),
                Slot {
                    model: name.clone().into_boxed_str(),
                    price: price.clone(),
                    alias: false,
                },
            );
        }
        for (alias, target) in &self.aliases {
            if let Some(price) = self.models.get(target) {
                index
                    .entry(alias.to_ascii_lowercase().into_boxed_str())
                    .or_insert_with(|| Slot {
                        model: target.clone().into_boxed_str(),
                        price: price.clone(),
                        alias: true,
                    });
            }
        }
        let mut filter = Filter::default();
        for key in index.keys() {
            filter.insert(key);
        }
        self.index = index;
        self.filter = filter;
    }
}

fn read(path: &Path) -> Result<(String, PricingFormat), PricingError> {
    let format = PricingFormat::from_path(path).ok_or_else(|| PricingError::UnsupportedFormat {
        path: path.to_path_buf(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| PricingError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, format))
}

fn needs_normalizing(name: &str) -> bool {
    // No early exit: the loop then compiles to a vectorised scan.
    name.bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase())
        || name.starts_with(char::is_whitespace)
        || name.ends_with(char::is_whitespace)
}

impl fmt::Debug for Pricing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pricing")
            .field("models", &self.table.models.len())
            .field("aliases", &self.table.aliases.len())
            .field("date", &self.table.meta.date)
            .finish()
    }
}

impl Default for Pricing {
    /// The built-in table.
    fn default() -> Self {
        Self::builtin().clone()
    }
}
