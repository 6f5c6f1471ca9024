//! Discord's OpenAPI description (`shared/discord-api-spec/openapi.json`): route lookup,
//! and request-body validation with the `jsonschema` crate (JSON Schema 2020-12), for the tests
//! (feature `test-controls`): [`SpecChecker`] checks every request the stand-in gets.
//!
//! What stays here is Discord's: finding the operation for a request, the two leniencies
//! below, and turning `jsonschema`'s errors into Discord's form errors (`SchemaError`:
//! field path plus a code such as `BASE_TYPE_MAX_LENGTH`).
//!
//! Two leniencies copy what Discord's API accepts: an `integer` may be sent as a string of
//! digits (the spec types permissions as integers, serenity sends them as strings), and a
//! snowflake may be sent as a non-negative JSON integer. Both are written into the schema
//! document once, when it is loaded ([`apply_leniencies`]).

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use crate::routes::{self, RequestChecker};
use crate::{StandIn, StandInConfig};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::{Location, LocationSegment};
use jsonschema::{Draft, JsonType, Keyword, Registry, ValidationError, Validator};
use serde_json::{json, Map, Value};

/// Where the spec lives: `shared/` sits beside the repository, which holds this crate in
/// `crates/discord-standin`. Read when the first request is checked, never by `careprompt try`.
pub const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/discord-api-spec/openapi.json"
);

pub use crate::routes::SchemaError;

/// The parsed spec (with the leniencies written in), its path templates, and the
/// compiled validators.
pub struct Spec {
    doc: Value,
    routes: Vec<RouteTemplate>,
    /// The document as the root resource that body schemas' `$ref`s resolve into.
    registry: Registry<'static>,
    /// Compiled body schemas by their address in `doc`.
    compiled: Mutex<HashMap<usize, Arc<Compiled>>>,
}

struct RouteTemplate {
    template: String,
    segments: Vec<Segment>,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// The outcome of looking a request up among the spec's paths.
pub enum RouteLookup<'a> {
    /// No path template matches.
    NotFound,
    /// A template matches but has no operation for this method.
    MethodNotAllowed {
        template: &'a str,
    },
    Found(Operation<'a>),
}

/// A matched operation of the spec.
pub struct Operation<'a> {
    /// The path template, e.g. `/channels/{channel_id}/messages`.
    pub template: &'a str,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path parameters by name.
    pub params: Vec<(String, String)>,
    pub operation: &'a Value,
    pub path_item: &'a Value,
}

impl<'a> Operation<'a> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON request-body schema, if the operation takes a body.
    pub fn json_body_schema(&self) -> Option<&'a Value> {
        self.operation
            .pointer("/requestBody/content/application~1json/schema")
    }

    pub fn body_required(&self) -> bool {
        self.operation
            .pointer("/requestBody/required")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Declared query parameters: name and schema.
    pub fn query_params(&self) -> Vec<(&'a str, &'a Value)> {
        let mut out = Vec::new();
        for holder in [self.path_item, self.operation] {
            if let Some(list) = holder.get("parameters").and_then(Value::as_array) {
                for p in list {
                    if p.get("in").and_then(Value::as_str) == Some("query") {
                        if let (Some(name), Some(schema)) =
                            (p.get("name").and_then(Value::as_str), p.get("schema"))
                        {
                            out.push((name, schema));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The base URI under which the whole OpenAPI document is registered, so that body schemas
/// resolve their `$ref`s (`#/components/schemas/...`) into it.
const DOC_URI: &str = "urn:discord:openapi";
/// The base URI of a schema that is not part of the document (tests' inline schemas).
const INLINE_URI: &str = "urn:discord-standin:inline";
/// Our keyword for the integer-as-string leniency (see [`apply_leniencies`]).
const INTEGER_STRING: &str = "x-standin-integer-string";

/// A compiled schema; `inline` keeps a schema that is not part of the document, for looking
/// up the keywords beside a failed one.
struct Compiled {
    validator: Validator,
    inline: Option<Value>,
}

/// The spec, parsed once per test process.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("cannot read Discord's OpenAPI spec at {SPEC_PATH}: {e}"));
        let doc: Value = serde_json::from_str(&text).expect("openapi.json is not JSON");
        Spec::new(doc)
    })
}

impl Spec {
    pub fn new(mut doc: Value) -> Spec {
        apply_leniencies(&mut doc);
        let routes = doc
            .get("paths")
            .and_then(Value::as_object)
            .map(|paths| {
                paths
                    .keys()
                    .map(|template| RouteTemplate {
                        template: template.clone(),
                        segments: template
                            .trim_start_matches('/')
                            .split('/')
                            .map(|s| {
                                if s.starts_with('{') && s.ends_with('}') {
                                    Segment::Param(s[1..s.len() - 1].to_string())
                                } else {
                                    Segment::Literal(s.to_string())
                                }
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(DOC_URI, doc.clone())
            .and_then(|r| r.prepare())
            .expect("openapi.json cannot be registered as a schema resource");
        Spec {
            doc,
            routes,
            registry,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The document as validated: with the leniencies of [`apply_leniencies`] written in.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// A named schema of `#/components/schemas`.
    pub fn component(&self, name: &str) -> Option<&Value> {
        self.doc.pointer(&format!("/components/schemas/{name}"))
    }

    /// Finds the operation for `method` and `path` (the part after `/api/v10`). Among
    /// matching templates the one with the most literal segments wins, so
    /// `/users/@me` beats `/users/{user_id}`.
    pub fn lookup(&self, method: &str, path: &str) -> RouteLookup<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(&RouteTemplate, usize)> = None;
        for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut literals = 0;
            let matches = route
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(l) => {
                        literals += 1;
                        l == part
                    }
                    Segment::Param(_) => !part.is_empty(),
                });
            if matches && best.is_none_or(|(_, n)| literals > n) {
                best = Some((route, literals));
            }
        }
        let Some((route, _)) = best else {
            return RouteLookup::NotFound;
        };
        let path_item = &self.doc["paths"][&route.template];
        let method_lower = method.to_ascii_lowercase();
        let Some(operation) = path_item.get(&method_lower) else {
            return RouteLookup::MethodNotAllowed {
                template: &route.template,
            };
        };
        let params = route
            .segments
            .iter()
            .zip(&parts)
            .filter_map(|(seg, part)| match seg {
                Segment::Param(name) => Some((name.clone(), (*part).to_string())),
                Segment::Literal(_) => None,
            })
            .collect();
        RouteLookup::Found(Operation {
            template: &route.template,
            method: method.to_ascii_uppercase(),
            params,
            operation,
            path_item,
        })
    }

    /// Validates `value` against `schema`. A schema taken from this spec (e.g.
    /// [`Operation::json_body_schema`]) may `$ref` into it and is compiled once; any other
    /// schema is compiled on each call (with the leniencies applied to it too).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<SchemaError> {
        let compiled = self.compiled(schema);
        let mut out = Vec::new();
        for err in compiled.validator.iter_errors(value) {
            self.convert(&err, compiled.inline.as_ref(), &mut out);
        }
        finish(out)
    }

    /// Validates against a component schema by name.
    pub fn validate_component(&self, name: &str, value: &Value) -> Vec<SchemaError> {
        let schema = self
            .component(name)
            .unwrap_or_else(|| panic!("no schema {name} in the spec"));
        self.validate(schema, value)
    }

    /// Checks query parameters (`a=1&b=true`) against the operation's declared ones.
    /// Undeclared parameters are ignored, as Discord does. Each value is typed as its
    /// schema says (Discord reads `true`/`1` as booleans and digits as numbers) before it is
    /// validated.
    pub fn validate_query(&self, op: &Operation<'_>, query: &str) -> Vec<SchemaError> {
        let declared = op.query_params();
        let mut out = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let Some((_, schema)) = declared.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let types = type_list(self.resolve(schema));
            let value = if types.iter().any(|t| t == "boolean") {
                match raw.to_ascii_lowercase().as_str() {
                    "true" | "1" => Value::Bool(true),
                    "false" | "0" => Value::Bool(false),
                    _ => {
                        out.push(SchemaError::new(
                            &[name.to_string()],
                            "BASE_TYPE_BOOLEAN",
                            "Must be either true or false.",
                        ));
                        continue;
                    }
                }
            } else if types.iter().any(|t| t == "integer" || t == "number") {
                match raw.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::String(raw.to_string()),
                }
            } else {
                Value::String(raw.to_string())
            };
            out.extend(self.validate(schema, &value).into_iter().map(|mut e| {
                e.path.insert(0, name.to_string());
                e
            }));
        }
        out
    }

    /// Follows a schema that is only a `$ref` to its target.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..32 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) if s.as_object().is_some_and(|o| o.len() == 1) => {
                    match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                        Some(target) => s = target,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        s
    }

    fn options(&self) -> jsonschema::ValidationOptions<'_> {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            // `uri` and `date-time` are checked; the spec's other formats (`int32`,
            // `snowflake`, `nonce`, ...) are unknown to jsonschema and only annotate.
            .should_validate_formats(true)
            .with_keyword(INTEGER_STRING, |parent, _value, _path| {
                Ok(Box::new(IntegerString::new(parent)))
            })
    }

    /// The compiled validator for `schema`: cached by address when `schema` lies inside
    /// the document (which lives as long as `self` and never changes).
    fn compiled(&self, schema: &Value) -> Arc<Compiled> {
        let key = schema as *const Value as usize;
        if let Some(c) = self.compiled.lock().expect("schema cache").get(&key) {
            return Arc::clone(c);
        }
        let Some(pointer) = pointer_to(&self.doc, schema) else {
            let mut inline = schema.clone();
            apply_leniencies(&mut inline);
            let validator = self
                .options()
                .with_base_uri(INLINE_URI)
                .build(&inline)
                .unwrap_or_else(|e| panic!("invalid schema {schema}: {e}"));
            return Arc::new(Compiled {
                validator,
                inline: Some(inline),
            });
        };
        let reference = json!({"$ref": format!("{DOC_URI}#{}", fragment_encode(&pointer))});
        let validator = self
            .options()
            .build(&reference)
            .unwrap_or_else(|e| panic!("cannot compile the spec's schema at {pointer}: {e}"));
        let compiled = Arc::new(Compiled {
            validator,
            inline: None,
        });
        self.compiled
            .lock()
            .expect("schema cache")
            .insert(key, Arc::clone(&compiled));
        compiled
    }

    /// The schema object holding the keyword that failed, found through the error's
    /// absolute keyword location (`urn:discord:openapi#/components/.../maxLength`).
    fn keyword_parent<'s>(
        &'s self,
        err: &ValidationError<'_>,
        inline: Option<&'s Value>,
    ) -> Option<&'s Map<String, Value>> {
        let uri = err.absolute_keyword_location()?;
        let root = match uri.as_str().split('#').next() {
            Some(DOC_URI) => &self.doc,
            Some(INLINE_URI) => inline?,
            _ => return None,
        };
        let pointer = uri.fragment()?.decode().to_string_lossy();
        let (parent, _keyword) = pointer.rsplit_once('/')?;
        root.pointer(parent)?.as_object()
    }

    /// Translates one `jsonschema` error into Discord's form errors.
    fn convert(
        &self,
        err: &ValidationError<'_>,
        inline: Option<&Value>,
        out: &mut Vec<SchemaError>,
    ) {
        let path = instance_path(err.instance_path());
        let here = |code: &str, message: String| SchemaError::new(&path, code, message);
        let below = |key: &str, code: &str, message: &str| {
            let mut p = path.clone();
            p.push(key.to_string());
            SchemaError::new(&p, code, message)
        };
        let instance: &Value = err.instance();
        // A string bounded on both sides gets Discord's "between" message.
        if matches!(
            err.kind(),
            ValidationErrorKind::MinLength { .. } | ValidationErrorKind::MaxLength { .. }
        ) {
            let parent = self.keyword_parent(err, inline);
            let bound = |k: &str| parent.and_then(|p| p.get(k)).and_then(Value::as_u64);
            if let (Some(lo @ 1..), Some(hi)) = (bound("minLength"), bound("maxLength")) {
                out.push(here(
                    "BASE_TYPE_BAD_LENGTH",
                    format!("Must be between {lo} and {hi} in length."),
                ));
                return;
            }
        }
        let error = match err.kind() {
            ValidationErrorKind::Type { kind } => {
                let snowflake = self
                    .keyword_parent(err, inline)
                    .and_then(|p| p.get("format"))
                    .and_then(Value::as_str)
                    == Some("snowflake");
                type_error(&path, kind, instance, snowflake)
            }
            ValidationErrorKind::Required { property } => {
                let name = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_string);
                below(&name, "BASE_TYPE_REQUIRED", "This field is required")
            }
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for key in unexpected {
                    out.push(below(key, "UNKNOWN_FIELD", "Field is not allowed."));
                }
                return;
            }
            ValidationErrorKind::FalseSchema => {
                here("UNKNOWN_FIELD", "Field is not allowed.".into())
            }
            ValidationErrorKind::Constant { expected_value } => here(
                "BASE_TYPE_CHOICES",
                format!("Value must be {expected_value}."),
            ),
            ValidationErrorKind::Enum { options } => {
                let choices: Vec<String> = options
                    .as_array()
                    .map(|l| l.iter().map(Value::to_string).collect())
                    .unwrap_or_default();
                here(
                    "BASE_TYPE_CHOICES",
                    format!("Value must be one of ({}).", choices.join(", ")),
                )
            }
            ValidationErrorKind::MaxLength { limit }
            | ValidationErrorKind::MaxItems { limit }
            | ValidationErrorKind::MaxProperties { limit } => here(
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {limit} or fewer in length."),
            ),
            ValidationErrorKind::MinLength { limit }
            | ValidationErrorKind::MinItems { limit }
            | ValidationErrorKind::MinProperties { limit } => here(
                "BASE_TYPE_MIN_LENGTH",
                format!("Must be {limit} or more in length."),
            ),
            ValidationErrorKind::UniqueItems => {
                here("ARRAY_TYPE_DUPLICATES", "Items must be unique.".into())
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => here(
                "NUMBER_TYPE_MIN",
                format!("int value should be greater than or equal to {limit}."),
            ),
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => here(
                "NUMBER_TYPE_MAX",
                format!("int value should be less than or equal to {limit}."),
            ),
            ValidationErrorKind::Pattern { pattern } => here(
                "STRING_TYPE_REGEX",
                format!("String value did not match validation regex {pattern}."),
            ),
            ValidationErrorKind::Format { format } => match format.as_str() {
                "uri" => here("URL_TYPE_INVALID_URL", "Not a well formed URL.".into()),
                "date-time" => here(
                    "DATE_TIME_TYPE_PARSE",
                    format!(
                        "Could not parse {}. Should be ISO8601.",
                        instance.as_str().unwrap_or_default()
                    ),
                ),
                other => here("BASE_TYPE_INVALID", format!("Not a valid {other}.")),
            },
            ValidationErrorKind::Custom { message, .. } => {
                let (code, message) = message
                    .split_once('|')
                    .unwrap_or(("BASE_TYPE_INVALID", message));
                here(code, message.to_string())
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                out.extend(self.best_branch(context, inline, path.len()));
                return;
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => here(
                "UNION_TYPE_CHOICES",
                "Value matches more than one of the allowed shapes.".into(),
            ),
            _ => here("BASE_TYPE_INVALID", err.to_string()),
        };
        out.push(error);
    }

    /// When no branch of an `anyOf`/`oneOf` fits, Discord reports the branch that fits best:
    /// prefer one whose JSON type and discriminating `type` property matched, then the one
    /// with the fewest errors.
    fn best_branch(
        &self,
        branches: &[Vec<ValidationError<'static>>],
        inline: Option<&Value>,
        here: usize,
    ) -> Vec<SchemaError> {
        let mismatch = |errs: &Vec<SchemaError>| {
            errs.iter().any(|e| {
                (e.path.len() == here && e.code.starts_with("BASE_TYPE_") && is_type_code(&e.code))
                    || (e.path.len() == here + 1
                        && e.path[here] == "type"
                        && e.code == "BASE_TYPE_CHOICES")
            })
        };
        branches
            .iter()
            .map(|branch| {
                let mut errs = Vec::new();
                for err in branch {
                    self.convert(err, inline, &mut errs);
                }
                finish(errs)
            })
            .min_by_key(|errs| (mismatch(errs), errs.len()))
            .unwrap_or_default()
    }
}

/// Writes Discord's leniencies into a schema document, once, so that `jsonschema` checks
/// them with its standard keywords plus one keyword of ours:
///
/// - An `integer` may be a string of digits: `"type"` gains `"string"`, and the schema gains
///   `x-standin-integer-string`, our keyword, which checks such a string's digits and the
///   schema's `minimum`/`maximum` (standard keywords that ignore strings). A custom keyword
///   is needed for the bounds; rewriting `type` keeps every other keyword standard.
/// - A snowflake (`"format": "snowflake"`) may be a non-negative JSON integer: `"type"` gains
///   `"integer"` and the schema `"minimum": 0` (which constrains numbers only, while strings
///   still meet the spec's digits `pattern`). A custom `format` would not do: formats see
///   strings only.
/// - `format: int32` without bounds gets the 32-bit range as `minimum`/`maximum`, as Discord
///   rejects larger values.
///
/// Only schema objects are touched: a `type` whose value is a string or a list of strings
/// (a property named `type` holds an object). `const`/`enum`/`default`/`examples` values are
/// data and are left alone.
pub fn apply_leniencies(schema: &mut Value) {
    match schema {
        Value::Array(items) => items.iter_mut().for_each(apply_leniencies),
        Value::Object(obj) => {
            let types = match obj.get("type") {
                Some(Value::String(t)) => Some(vec![t.clone()]),
                Some(Value::Array(ts)) if ts.iter().all(Value::is_string) => Some(
                    ts.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                ),
                _ => None,
            };
            if let Some(mut types) = types {
                let has = |types: &[String], t: &str| types.iter().any(|x| x == t);
                let format = obj
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if has(&types, "integer") {
                    if format.as_deref() == Some("int32")
                        && !obj.contains_key("minimum")
                        && !obj.contains_key("maximum")
                    {
                        obj.insert("minimum".into(), Value::from(i32::MIN));
                        obj.insert("maximum".into(), Value::from(i32::MAX));
                    }
                    if !has(&types, "string") {
                        types.push("string".into());
                        obj.insert(INTEGER_STRING.into(), Value::Bool(true));
                    }
                } else if format.as_deref() == Some("snowflake") && has(&types, "string") {
                    types.push("integer".into());
                    obj.entry("minimum").or_insert(Value::from(0));
                }
                obj.insert(
                    "type".into(),
                    Value::Array(types.into_iter().map(Value::String).collect()),
                );
            }
            for (key, value) in obj.iter_mut() {
                if !matches!(
                    key.as_str(),
                    "const" | "enum" | "default" | "example" | "examples"
                ) {
                    apply_leniencies(value);
                }
            }
        }
        _ => {}
    }
}

/// Our keyword: a string sent for an integer must be digits (Discord: `NUMBER_TYPE_COERCE`)
/// within the schema's `minimum`/`maximum`. Other instances are left to the standard
/// keywords. Errors carry Discord's code before a `|`.
struct IntegerString {
    minimum: Option<f64>,
    maximum: Option<f64>,
}

impl IntegerString {
    fn new(parent: &Map<String, Value>) -> IntegerString {
        IntegerString {
            minimum: parent.get("minimum").and_then(Value::as_f64),
            maximum: parent.get("maximum").and_then(Value::as_f64),
        }
    }

    fn check(&self, instance: &Value) -> Option<String> {
        let Value::String(s) = instance else {
            return None;
        };
        let digits = s.strip_prefix('-').unwrap_or(s);
        let n = if !digits.is_empty()
            && digits.len() <= 20
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            s.parse::<i128>().ok()
        } else {
            None
        };
        let Some(n) = n else {
            return Some(format!("NUMBER_TYPE_COERCE|Value \"{s}\" is not int."));
        };
        let x = n as f64;
        match (self.minimum, self.maximum) {
            (Some(min), _) if x < min => Some(format!(
                "NUMBER_TYPE_MIN|int value should be greater than or equal to {}.",
                Value::from(min as i64)
            )),
            (_, Some(max)) if x > max => Some(format!(
                "NUMBER_TYPE_MAX|int value should be less than or equal to {}.",
                Value::from(max as i64)
            )),
            _ => None,
        }
    }
}

impl<'i> Keyword<'i> for IntegerString {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match self.check(instance) {
            Some(message) => Err(ValidationError::custom(message)),
            None => Ok(()),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// Discord's answer to a value of the wrong JSON type.
fn type_error(path: &[String], kind: &TypeKind, v: &Value, snowflake: bool) -> SchemaError {
    if v.is_null() {
        return SchemaError::new(path, "BASE_TYPE_REQUIRED", "This field is required");
    }
    let allowed = |t: JsonType| match kind {
        TypeKind::Single(s) => *s == t,
        TypeKind::Multiple(set) => set.contains(t),
    };
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if snowflake {
        SchemaError::new(
            path,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{shown}\" is not snowflake."),
        )
    } else if allowed(JsonType::Integer) {
        SchemaError::new(
            path,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{shown}\" is not int."),
        )
    } else if allowed(JsonType::Number) {
        SchemaError::new(
            path,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{shown}\" is not a valid number."),
        )
    } else if allowed(JsonType::String) {
        SchemaError::new(path, "BASE_TYPE_STRING", "Must be a string.")
    } else if allowed(JsonType::Boolean) {
        SchemaError::new(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.")
    } else if allowed(JsonType::Array) {
        SchemaError::new(path, "BASE_TYPE_ARRAY", "Must be an array.")
    } else if allowed(JsonType::Object) {
        SchemaError::new(path, "BASE_TYPE_OBJECT", "Must be an object.")
    } else {
        SchemaError::new(path, "BASE_TYPE_NULL", "Must be null.")
    }
}

fn is_type_code(code: &str) -> bool {
    matches!(
        code,
        "BASE_TYPE_STRING"
            | "BASE_TYPE_BOOLEAN"
            | "BASE_TYPE_ARRAY"
            | "BASE_TYPE_OBJECT"
            | "BASE_TYPE_NUMBER"
            | "BASE_TYPE_NULL"
            | "BASE_TYPE_REQUIRED"
            | "NUMBER_TYPE_COERCE"
    )
}

/// Like Discord, a value of the wrong type gets only that error: other errors at the same
/// path are dropped. Then repeats go, and errors are ordered by path.
fn finish(errors: Vec<SchemaError>) -> Vec<SchemaError> {
    let mistyped: Vec<Vec<String>> = errors
        .iter()
        .filter(|e| is_type_code(&e.code))
        .map(|e| e.path.clone())
        .collect();
    let mut out = dedup(
        errors
            .into_iter()
            .filter(|e| is_type_code(&e.code) || !mistyped.contains(&e.path))
            .collect(),
    );
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Drops repeated (path, code) pairs, keeping the first.
pub fn dedup(errors: Vec<SchemaError>) -> Vec<SchemaError> {
    let mut out: Vec<SchemaError> = Vec::with_capacity(errors.len());
    for e in errors {
        if !out.iter().any(|o| o.path == e.path && o.code == e.code) {
            out.push(e);
        }
    }
    out
}

fn type_list(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// An instance location as Discord's error path: field names and array indices.
fn instance_path(location: &Location) -> Vec<String> {
    location
        .iter()
        .map(|seg| match seg {
            LocationSegment::Property(p) => p.into_owned(),
            LocationSegment::Index(i) => i.to_string(),
        })
        .collect()
}

/// The JSON pointer of `target` inside `root`, found by address.
fn pointer_to(root: &Value, target: &Value) -> Option<String> {
    if std::ptr::eq(root, target) {
        return Some(String::new());
    }
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match root {
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| pointer_to(v, target).map(|rest| format!("/{}{rest}", escape(k)))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| pointer_to(v, target).map(|rest| format!("/{i}{rest}"))),
        _ => None,
    }
}

/// A JSON pointer as a URI fragment: bytes outside RFC 3986's fragment characters are
/// percent-encoded (path templates hold `{` and `}`).
fn fragment_encode(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The tests' check of the stand-in's requests: routes as Discord's OpenAPI file lists them,
/// bodies and queries validated against it.
#[derive(Debug)]
pub struct SpecChecker;

impl SpecChecker {
    fn operation(&self, op: &routes::Operation) -> Option<Operation<'static>> {
        // The stand-in's operation came from this spec, so its template is one of the spec's.
        let path = op
            .template
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    op.param(&seg[1..seg.len() - 1]).unwrap_or("0")
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        match spec().lookup(&op.method, &path) {
            RouteLookup::Found(found) => Some(found),
            _ => None,
        }
    }
}

impl RequestChecker for SpecChecker {
    fn lookup(&self, method: &str, path: &str) -> routes::RouteLookup {
        match spec().lookup(method, path) {
            RouteLookup::NotFound => routes::RouteLookup::NotFound,
            RouteLookup::MethodNotAllowed { template } => routes::RouteLookup::MethodNotAllowed {
                template: template.to_string(),
            },
            RouteLookup::Found(op) => routes::RouteLookup::Found(routes::Operation {
                template: op.template.to_string(),
                method: op.method,
                params: op.params,
            }),
        }
    }

    fn check_body(&self, op: &routes::Operation, body: Option<&Value>) -> Vec<SchemaError> {
        let Some(op) = self.operation(op) else {
            return Vec::new();
        };
        match (body, op.json_body_schema()) {
            (None, Some(_)) if op.body_required() => vec![SchemaError::new(
                &[],
                "BASE_TYPE_REQUIRED",
                "A request body is required",
            )],
            (Some(body), Some(schema)) => spec().validate(schema, body),
            _ => Vec::new(),
        }
    }

    fn check_query(&self, op: &routes::Operation, query: &str) -> Vec<SchemaError> {
        match self.operation(op) {
            Some(op) => spec().validate_query(&op, query),
            None => Vec::new(),
        }
    }
}

/// The stand-in as the tests run it: every request is also checked against Discord's OpenAPI
/// description ([`SpecChecker`]). Clones share it; it derefs to the [`StandIn`].
#[derive(Clone)]
pub struct CheckedStandIn(StandIn);

impl CheckedStandIn {
    /// Starts the checked stand-in with Discord's default behaviour.
    pub async fn start() -> CheckedStandIn {
        CheckedStandIn::start_with(StandInConfig::default()).await
    }

    pub async fn start_with(mut cfg: StandInConfig) -> CheckedStandIn {
        cfg.checker = Some(Arc::new(SpecChecker));
        CheckedStandIn(StandIn::start_with(cfg).await)
    }
}

impl Deref for CheckedStandIn {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What serenity's builders send is what Discord's API description accepts.
    #[test]
    fn serenity_builders_make_a_valid_message_create_request() {
        use serenity::builder::{
            CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter, CreateMessage,
        };
        let msg = CreateMessage::new()
            .content("hello")
            .embed(
                CreateEmbed::new()
                    .title("t")
                    .description("d")
                    .field("a", "b", true)
                    .footer(CreateEmbedFooter::new("f"))
                    .colour(0x00ff00)
                    .timestamp(serenity::model::Timestamp::now()),
            )
            .components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new("b1").label("One"),
                CreateButton::new_link("https://example.org").label("Link"),
            ])]);
        let body = serde_json::to_value(&msg).expect("serialise");
        assert!(spec()
            .validate_component("MessageCreateRequest", &body)
            .is_empty());
    }

    fn callback_schema() -> &'static Value {
        let RouteLookup::Found(op) = spec().lookup("POST", "/interactions/3001/itok/callback")
        else {
            panic!("callback route not found");
        };
        op.json_body_schema().expect("callback has a body schema")
    }

    fn body_schema(method: &str, path: &str) -> &'static Value {
        match spec().lookup(method, path) {
            RouteLookup::Found(op) => op.json_body_schema().expect("no body schema"),
            _ => panic!("{method} {path} not found in the spec"),
        }
    }

    fn paths(errs: &[SchemaError]) -> Vec<String> {
        errs.iter().map(SchemaError::dotted_path).collect()
    }

    #[test]
    fn route_lookup_prefers_literal_segments() {
        match spec().lookup("PATCH", "/webhooks/1000/tok/messages/@original") {
            RouteLookup::Found(op) => {
                assert_eq!(
                    op.template,
                    "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
                );
                assert_eq!(op.param("webhook_token"), Some("tok"));
            }
            _ => panic!("not found"),
        }
        match spec().lookup("GET", "/users/@me") {
            RouteLookup::Found(op) => assert_eq!(op.template, "/users/@me"),
            _ => panic!("not found"),
        }
        assert!(matches!(
            spec().lookup("GET", "/no/such/route"),
            RouteLookup::NotFound
        ));
        assert!(matches!(
            spec().lookup("PUT", "/gateway"),
            RouteLookup::MethodNotAllowed { .. }
        ));
    }

    #[test]
    fn interaction_callback_valid_and_invalid() {
        let ok = json!({"type": 4, "data": {"content": "hi", "flags": 64,
            "embeds": [{"title": "t", "description": "d", "color": 3447003,
                        "fields": [{"name": "a", "value": "b", "inline": true}]}],
            "components": [{"type": 1, "components": [
                {"type": 2, "style": 1, "custom_id": "x", "label": "X"}]}],
            "allowed_mentions": {"parse": []}}});
        assert_eq!(spec().validate(callback_schema(), &ok), vec![]);
        assert_eq!(
            spec().validate(callback_schema(), &json!({"type": 5})),
            vec![]
        );

        let bad = json!({"type": 4, "data": {"embeds": [{"title": "x".repeat(257)}]}});
        let errs = spec().validate(callback_schema(), &bad);
        assert_eq!(paths(&errs), vec!["data.embeds.0.title"], "{errs:?}");
        assert_eq!(errs[0].code, "BASE_TYPE_MAX_LENGTH");

        let bad_type = json!({"type": 42});
        assert!(!spec().validate(callback_schema(), &bad_type).is_empty());
        let bad_button = json!({"type": 4, "data": {"components": [{"type": 1, "components": [
            {"type": 2, "custom_id": "x"}]}]}});
        let errs = spec().validate(callback_schema(), &bad_button);
        assert_eq!(
            paths(&errs),
            vec!["data.components.0.components.0.style"],
            "{errs:?}"
        );
    }

    #[test]
    fn create_message_valid_and_invalid() {
        let schema = body_schema("POST", "/channels/1001/messages");
        let ok = json!({"content": "héllo", "tts": false, "nonce": "abc", "enforce_nonce": true,
            "embeds": [{"title": "é".repeat(256), "timestamp": "2024-01-01T00:00:00Z",
                        "url": "https://example.org/x"}],
            "allowed_mentions": {"parse": ["users"], "users": ["5000", 5001]},
            "message_reference": {"message_id": "9001"}});
        assert_eq!(spec().validate(schema, &ok), vec![]);

        let bad = json!({"content": 5, "embeds": [{"title": "é".repeat(257), "color": -1,
                         "timestamp": "yesterday"}],
                         "allowed_mentions": {"users": ["not-a-snowflake", -1]},
                         "nonce": "x".repeat(26)});
        let mut got = paths(&spec().validate(schema, &bad));
        got.sort();
        assert_eq!(
            got,
            vec![
                "allowed_mentions.users.0",
                "allowed_mentions.users.1",
                "content",
                "embeds.0.color",
                "embeds.0.timestamp",
                "embeds.0.title",
                "nonce",
            ]
        );
    }

    #[test]
    fn bulk_command_put_valid_and_invalid() {
        let schema = body_schema("PUT", "/applications/1000/commands");
        let ok = json!([{"name": "pack", "description": "Get a pack", "type": 1,
            "default_member_permissions": "8", "contexts": [0, 1], "integration_types": [0],
            "options": [{"type": 3, "name": "theme", "description": "Theme", "required": true,
                         "choices": [{"name": "Compassion", "value": "compassion"}]},
                        {"type": 5, "name": "private", "description": "Only me"}]}]);
        assert_eq!(spec().validate(schema, &ok), vec![]);
        assert_eq!(spec().validate(schema, &json!([])), vec![]);

        let bad = json!([{"name": "x".repeat(33), "description": "d",
            "options": [{"type": 3, "name": "theme"}, {"type": 99, "name": "y", "description": "y"}]}]);
        let mut got = paths(&spec().validate(schema, &bad));
        got.sort();
        assert_eq!(
            got,
            vec!["0.name", "0.options.0.description", "0.options.1.type"]
        );
        // A name bounded on both sides (1-32) gets Discord's "between" code.
        assert_eq!(
            spec().validate(schema, &bad)[0].code,
            "BASE_TYPE_BAD_LENGTH"
        );
    }

    #[test]
    fn keyword_details() {
        let s = Spec::new(json!({}));
        let schema = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": ["string", "null"], "minLength": 2},
                           "b": {"type": "array", "prefixItems": [{"const": 1}],
                                 "items": {"type": "boolean"}, "uniqueItems": true}}});
        assert_eq!(s.validate(&schema, &json!({"a": null})), vec![]);
        assert_eq!(paths(&s.validate(&schema, &json!({"a": "é"}))), vec!["a"]);
        assert_eq!(paths(&s.validate(&schema, &json!({}))), vec!["a"]);
        assert_eq!(
            paths(&s.validate(&schema, &json!({"a": "ab", "c": 1}))),
            vec!["c"]
        );
        assert_eq!(
            paths(&s.validate(&schema, &json!({"a": "ab", "b": [2, true, true]}))),
            vec!["b", "b.0"]
        );
        let one = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
        assert_eq!(s.validate(&one, &json!(1.5)), vec![]);
        assert_eq!(s.validate(&one, &json!(2))[0].code, "UNION_TYPE_CHOICES");
        let int = json!({"type": "integer", "minimum": 0, "maximum": 10});
        assert_eq!(s.validate(&int, &json!("7")), vec![]);
        assert_eq!(s.validate(&int, &json!("11"))[0].code, "NUMBER_TYPE_MAX");
        assert_eq!(s.validate(&int, &json!("x"))[0].code, "NUMBER_TYPE_COERCE");
        let date_time = json!({"type": "string", "format": "date-time"});
        assert_eq!(
            s.validate(&date_time, &json!("2024-01-01T00:00:00.123+01:00")),
            vec![]
        );
        assert_eq!(
            s.validate(&date_time, &json!("2024-01-01"))[0].code,
            "DATE_TIME_TYPE_PARSE"
        );
        // Lengths count characters (code points), not bytes.
        let short = json!({"type": "string", "maxLength": 2});
        assert_eq!(s.validate(&short, &json!("éé")), vec![]);
    }
}
