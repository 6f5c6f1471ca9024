//! Discord's OpenAPI description (`shared/discord-api-spec/openapi.json`) and a small
//! JSON Schema (2020-12) validator over `serde_json::Value` covering the keywords the
//! spec uses.
//!
//! Supported: `$ref` (into the same document), `type` (one or a list, including `"null"`),
//! `const`, `enum`, `properties`, `required`, `additionalProperties` (schema or `false`),
//! `minProperties`/`maxProperties`, `items`, `prefixItems`, `minItems`/`maxItems`,
//! `uniqueItems`, `minLength`/`maxLength` (counted in characters), `minimum`/`maximum`,
//! `allOf`, `anyOf`, `oneOf` (exactly one), `format` (`snowflake`, `int32`, `int64`, `uri`,
//! `date-time`) and the spec's two `pattern`s (an unknown pattern is not checked).
//!
//! Two leniencies copy what Discord's API accepts: an `integer` may be sent as a string of
//! digits (the spec types permissions as integers, serenity sends them as strings), and a
//! snowflake may be sent as a non-negative JSON integer.

use std::sync::OnceLock;

use serde_json::Value;

/// Where the spec lives: `shared/` sits beside the repository.
pub const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/discord-api-spec/openapi.json"
);

/// One failed check, with its place in the request body (field names and array indices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub path: Vec<String>,
    /// Discord's error code for the failure, e.g. `BASE_TYPE_MAX_LENGTH`.
    pub code: String,
    pub message: String,
}

impl SchemaError {
    pub fn new(path: &[String], code: &str, message: impl Into<String>) -> SchemaError {
        SchemaError {
            path: path.to_vec(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The dotted path, e.g. `embeds.0.title` (empty for the body itself).
    pub fn dotted_path(&self) -> String {
        self.path.join(".")
    }
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(body)".to_string()
        } else {
            self.dotted_path()
        };
        write!(f, "{path}: {} ({})", self.message, self.code)
    }
}

/// The parsed spec plus its path templates.
pub struct Spec {
    doc: Value,
    routes: Vec<RouteTemplate>,
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
    pub fn new(doc: Value) -> Spec {
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
        Spec { doc, routes }
    }

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

    /// Validates `value` against `schema` (which may `$ref` into this spec).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<SchemaError> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.check(schema, value, &mut path, &mut out, 0);
        dedup(out)
    }

    /// Validates against a component schema by name.
    pub fn validate_component(&self, name: &str, value: &Value) -> Vec<SchemaError> {
        let schema = self
            .component(name)
            .unwrap_or_else(|| panic!("no schema {name} in the spec"));
        self.validate(schema, value)
    }

    /// Checks query parameters (`a=1&b=true`) against the operation's declared ones.
    /// Undeclared parameters are ignored, as Discord does.
    pub fn validate_query(&self, op: &Operation<'_>, query: &str) -> Vec<SchemaError> {
        let declared = op.query_params();
        let mut out = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let Some((_, schema)) = declared.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let schema = self.resolve(schema);
            let types = type_list(schema);
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
            let mut path = vec![name.to_string()];
            self.check(schema, &value, &mut path, &mut out, 0);
        }
        out
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..32 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) if s.as_object().is_some_and(|o| o.len() == 1) => {
                    s = self.lookup_ref(r);
                }
                _ => break,
            }
        }
        s
    }

    fn lookup_ref(&self, reference: &str) -> &Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local $ref is supported, got {reference}"));
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<SchemaError>,
        depth: usize,
    ) {
        assert!(
            depth < 200,
            "schema recursion too deep at {}",
            path.join(".")
        );
        let obj = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                out.push(SchemaError::new(
                    path,
                    "UNKNOWN_FIELD",
                    "Field is not allowed.",
                ));
                return;
            }
            Value::Object(o) => o,
            _ => return,
        };

        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let target = self.lookup_ref(r);
            self.check(target, value, path, out, depth + 1);
        }

        // type
        let types = type_list(schema);
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, value, obj)) {
            out.push(type_error(path, &types, value));
            return;
        }

        if let Some(c) = obj.get("const") {
            if !json_eq(c, value) {
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_CHOICES",
                    format!("Value must be {c}."),
                ));
            }
        }
        if let Some(list) = obj.get("enum").and_then(Value::as_array) {
            if !list.iter().any(|c| json_eq(c, value)) {
                let choices: Vec<String> = list.iter().map(Value::to_string).collect();
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_CHOICES",
                    format!("Value must be one of ({}).", choices.join(", ")),
                ));
            }
        }

        match value {
            Value::String(s) => self.check_string(obj, s, path, out),
            Value::Number(_) => check_number(obj, value, path, out),
            Value::Array(items) => self.check_array(obj, items, path, out, depth),
            Value::Object(map) => self.check_object(obj, map, path, out, depth),
            _ => {}
        }
        // An integer sent as a string still has to respect the numeric bounds.
        if let Value::String(s) = value {
            if types.iter().any(|t| t == "integer") && !types.iter().any(|t| t == "string") {
                if let Ok(n) = s.parse::<i128>() {
                    check_number(obj, &Value::from(n as f64), path, out);
                }
            }
        }

        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, path, out, depth + 1);
            }
        }
        if let Some(any) = obj.get("anyOf").and_then(Value::as_array) {
            self.check_union(any, value, path, out, depth, false);
        }
        if let Some(one) = obj.get("oneOf").and_then(Value::as_array) {
            self.check_union(one, value, path, out, depth, true);
        }
    }

    fn check_union(
        &self,
        branches: &[Value],
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<SchemaError>,
        depth: usize,
        exactly_one: bool,
    ) {
        let mut results: Vec<Vec<SchemaError>> = Vec::with_capacity(branches.len());
        for b in branches {
            let mut errs = Vec::new();
            self.check(b, value, path, &mut errs, depth + 1);
            results.push(errs);
        }
        let passing = results.iter().filter(|e| e.is_empty()).count();
        if passing == 0 {
            // Report the branch that fits best: prefer one whose discriminating `type`
            // property and JSON type matched, then the one with the fewest errors.
            let here = path.len();
            let mismatch = |errs: &Vec<SchemaError>| {
                errs.iter().any(|e| {
                    (e.path.len() == here
                        && e.code.starts_with("BASE_TYPE_")
                        && is_type_code(&e.code))
                        || (e.path.len() == here + 1
                            && e.path[here] == "type"
                            && e.code == "BASE_TYPE_CHOICES")
                })
            };
            let best = results
                .iter()
                .min_by_key(|errs| (mismatch(errs), errs.len()))
                .cloned()
                .unwrap_or_default();
            out.extend(best);
        } else if exactly_one && passing > 1 {
            out.push(SchemaError::new(
                path,
                "UNION_TYPE_CHOICES",
                "Value matches more than one of the allowed shapes.",
            ));
        }
    }

    fn check_string(
        &self,
        obj: &serde_json::Map<String, Value>,
        s: &str,
        path: &[String],
        out: &mut Vec<SchemaError>,
    ) {
        let len = s.chars().count() as u64;
        let min = obj.get("minLength").and_then(Value::as_u64);
        let max = obj.get("maxLength").and_then(Value::as_u64);
        let too_short = min.is_some_and(|m| len < m);
        let too_long = max.is_some_and(|m| len > m);
        if too_short || too_long {
            match (min, max) {
                (Some(lo), Some(hi)) if lo > 0 => out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    format!("Must be between {lo} and {hi} in length."),
                )),
                (_, Some(hi)) if too_long => out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {hi} or fewer in length."),
                )),
                (Some(lo), _) => out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MIN_LENGTH",
                    format!("Must be {lo} or more in length."),
                )),
                _ => {}
            }
        }
        if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
            if let Some(false) = known_pattern(p, s) {
                out.push(SchemaError::new(
                    path,
                    "STRING_TYPE_REGEX",
                    format!("String value did not match validation regex {p}."),
                ));
            }
        }
        match obj.get("format").and_then(Value::as_str) {
            Some("uri") if !is_uri(s) => out.push(SchemaError::new(
                path,
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.",
            )),
            Some("date-time") if !is_date_time(s) => out.push(SchemaError::new(
                path,
                "DATE_TIME_TYPE_PARSE",
                format!("Could not parse {s}. Should be ISO8601."),
            )),
            _ => {}
        }
    }

    fn check_array(
        &self,
        obj: &serde_json::Map<String, Value>,
        items: &[Value],
        path: &mut Vec<String>,
        out: &mut Vec<SchemaError>,
        depth: usize,
    ) {
        let len = items.len() as u64;
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64) {
            if len < min {
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MIN_LENGTH",
                    format!("Must be {min} or more in length."),
                ));
            }
        }
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64) {
            if len > max {
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {max} or fewer in length."),
                ));
            }
        }
        if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            for (i, a) in items.iter().enumerate() {
                if items[..i].iter().any(|b| json_eq(a, b)) {
                    out.push(SchemaError::new(
                        path,
                        "ARRAY_TYPE_DUPLICATES",
                        "Items must be unique.",
                    ));
                    break;
                }
            }
        }
        let prefix = obj
            .get("prefixItems")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (i, item) in items.iter().enumerate() {
            let sub = if i < prefix.len() {
                Some(&prefix[i])
            } else {
                obj.get("items")
            };
            if let Some(sub) = sub {
                path.push(i.to_string());
                self.check(sub, item, path, out, depth + 1);
                path.pop();
            }
        }
    }

    fn check_object(
        &self,
        obj: &serde_json::Map<String, Value>,
        map: &serde_json::Map<String, Value>,
        path: &mut Vec<String>,
        out: &mut Vec<SchemaError>,
        depth: usize,
    ) {
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    path.push(name.to_string());
                    out.push(SchemaError::new(
                        path,
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    ));
                    path.pop();
                }
            }
        }
        let n = map.len() as u64;
        if let Some(max) = obj.get("maxProperties").and_then(Value::as_u64) {
            if n > max {
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {max} or fewer in length."),
                ));
            }
        }
        if let Some(min) = obj.get("minProperties").and_then(Value::as_u64) {
            if n < min {
                out.push(SchemaError::new(
                    path,
                    "BASE_TYPE_MIN_LENGTH",
                    format!("Must be {min} or more in length."),
                ));
            }
        }
        let props = obj.get("properties").and_then(Value::as_object);
        for (key, val) in map {
            path.push(key.clone());
            match props.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, val, path, out, depth + 1),
                None => {
                    if let Some(extra) = obj.get("additionalProperties") {
                        self.check(extra, val, path, out, depth + 1);
                    }
                }
            }
            path.pop();
        }
    }
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
    ) || code == "NUMBER_TYPE_COERCE"
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

fn is_integer_number(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn is_int_string(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn type_matches(t: &str, v: &Value, obj: &serde_json::Map<String, Value>) -> bool {
    match (t, v) {
        ("null", Value::Null) => true,
        ("boolean", Value::Bool(_)) => true,
        ("object", Value::Object(_)) => true,
        ("array", Value::Array(_)) => true,
        ("number", Value::Number(_)) => true,
        ("integer", v) if is_integer_number(v) => true,
        // Discord coerces int-parseable strings (permissions are sent as strings).
        ("integer", Value::String(s)) => is_int_string(s),
        ("string", Value::String(_)) => true,
        // Snowflakes may be sent as JSON integers.
        ("string", Value::Number(n)) => {
            obj.get("format").and_then(Value::as_str) == Some("snowflake") && n.is_u64()
        }
        _ => false,
    }
}

fn type_error(path: &[String], types: &[String], v: &Value) -> SchemaError {
    if v.is_null() {
        return SchemaError::new(path, "BASE_TYPE_REQUIRED", "This field is required");
    }
    let main = types
        .iter()
        .find(|t| t.as_str() != "null")
        .map(String::as_str)
        .unwrap_or("null");
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match main {
        "string" => SchemaError::new(path, "BASE_TYPE_STRING", "Must be a string."),
        "boolean" => SchemaError::new(path, "BASE_TYPE_BOOLEAN", "Must be either true or false."),
        "array" => SchemaError::new(path, "BASE_TYPE_ARRAY", "Must be an array."),
        "object" => SchemaError::new(path, "BASE_TYPE_OBJECT", "Must be an object."),
        "integer" => SchemaError::new(
            path,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{shown}\" is not int."),
        ),
        "number" => SchemaError::new(
            path,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{shown}\" is not a valid number."),
        ),
        _ => SchemaError::new(path, "BASE_TYPE_NULL", "Must be null."),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
}

fn check_number(
    obj: &serde_json::Map<String, Value>,
    v: &Value,
    path: &[String],
    out: &mut Vec<SchemaError>,
) {
    let Some(x) = number_of(v) else { return };
    // Compare big integers exactly where both sides are integers.
    let exact = v.as_i64().map(i128::from).or(v.as_u64().map(i128::from));
    let below = |bound: &Value| match (
        exact,
        bound
            .as_i64()
            .map(i128::from)
            .or(bound.as_u64().map(i128::from)),
    ) {
        (Some(a), Some(b)) => a < b,
        _ => bound.as_f64().is_some_and(|b| x < b),
    };
    let above = |bound: &Value| match (
        exact,
        bound
            .as_i64()
            .map(i128::from)
            .or(bound.as_u64().map(i128::from)),
    ) {
        (Some(a), Some(b)) => a > b,
        _ => bound.as_f64().is_some_and(|b| x > b),
    };
    if let Some(min) = obj.get("minimum") {
        if below(min) {
            out.push(SchemaError::new(
                path,
                "NUMBER_TYPE_MIN",
                format!("int value should be greater than or equal to {min}."),
            ));
        }
    }
    if let Some(max) = obj.get("maximum") {
        if above(max) {
            out.push(SchemaError::new(
                path,
                "NUMBER_TYPE_MAX",
                format!("int value should be less than or equal to {max}."),
            ));
        }
    }
    if obj.get("format").and_then(Value::as_str) == Some("int32")
        && !obj.contains_key("minimum")
        && !obj.contains_key("maximum")
        && (x < f64::from(i32::MIN) || x > f64::from(i32::MAX))
    {
        out.push(SchemaError::new(
            path,
            "NUMBER_TYPE_MAX",
            "int value is out of the 32-bit range.",
        ));
    }
}

/// Equality with numbers compared by value (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
                p == q
            } else if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
                p == q
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The spec's two patterns, checked by hand. `None` for a pattern this validator does not
/// know (not checked).
fn known_pattern(pattern: &str, s: &str) -> Option<bool> {
    match pattern {
        "^(0|[1-9][0-9]*)$" => Some(
            s == "0"
                || (!s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())),
        ),
        "^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$" => {
            Some(s.strip_prefix('#').is_some_and(|hex| {
                (hex.len() == 6 || hex.len() == 3) && hex.bytes().all(|b| b.is_ascii_hexdigit())
            }))
        }
        _ => None,
    }
}

/// A URI: a scheme (`letter *(letter / digit / "+" / "-" / ".")`), a colon and something
/// after it, no whitespace.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't' | b' ')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
            "allowed_mentions": {"parse": ["users"], "users": ["5000"]},
            "message_reference": {"message_id": "9001"}});
        assert_eq!(spec().validate(schema, &ok), vec![]);

        let bad = json!({"content": 5, "embeds": [{"title": "é".repeat(257), "color": -1,
                         "timestamp": "yesterday"}],
                         "allowed_mentions": {"users": ["not-a-snowflake"]},
                         "nonce": "x".repeat(26)});
        let mut got = paths(&spec().validate(schema, &bad));
        got.sort();
        assert_eq!(
            got,
            vec![
                "allowed_mentions.users.0",
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
        assert!(is_date_time("2024-01-01T00:00:00.123+01:00"));
        assert!(!is_date_time("2024-01-01"));
    }
}
