//! One health.d file: netdata 1.37's line format (`key: value`, `#` comments, `\`
//! continuations) and its `alarm:` / `template:` entities. A bad line or key is reported with
//! file and line and skipped; an invalid entity is reported and dropped; the rest loads.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tributary_config::SimplePattern;

use crate::duration;
use crate::expression::Expression;
use crate::lookup::{self, Lookup};
use tributary_rrd::custom_vars::sanitize_name;

/// Longest joined line netdata accepts.
const MAX_LINE: usize = 4096;

/// Whether an entity is an alarm (one chart) or a template (every chart of a context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `alarm:` — `on` is a chart id or name.
    Alarm,
    /// `template:` — `on` is a context.
    Template,
}

impl Kind {
    /// `alarm` or `template`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alarm => "alarm",
            Kind::Template => "template",
        }
    }
}

/// `delay:` settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    /// Seconds to hold back a notification of a rise.
    pub up: i64,
    /// Seconds to hold back a notification of a fall.
    pub down: i64,
    /// Escalation factor for changes inside the previous delay.
    pub multiplier: f64,
    /// Cap of the escalated delay.
    pub max: i64,
}

impl Default for Delay {
    fn default() -> Delay {
        Delay {
            up: 0,
            down: 0,
            multiplier: 1.0,
            max: 0,
        }
    }
}

/// `repeat:` settings (0: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Repeat {
    /// Seconds between WARNING notifications.
    pub warning: i64,
    /// Seconds between CRITICAL notifications.
    pub critical: i64,
}

/// A pattern with the text it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The text.
    pub text: String,
    /// The parsed pattern.
    pub pattern: SimplePattern,
}

impl Pattern {
    fn new(text: &str) -> Pattern {
        Pattern {
            text: text.to_string(),
            pattern: SimplePattern::new(text),
        }
    }

    /// Whether `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        self.pattern.matches(s)
    }
}

/// One `alarm:` or `template:` entity, compiled.
#[derive(Debug, Clone)]
pub struct AlarmDef {
    /// Alarm or template.
    pub kind: Kind,
    /// The sanitised name.
    pub name: String,
    /// Chart id/name (alarm) or context (template).
    pub on: String,
    /// `class` (None: `Unknown`).
    pub class: Option<String>,
    /// `type` (None: `Unknown`).
    pub type_: Option<String>,
    /// `component` (None: `Unknown`).
    pub component: Option<String>,
    /// `os` pattern.
    pub os: Option<Pattern>,
    /// `hosts` pattern.
    pub hosts: Option<Pattern>,
    /// `families` pattern (templates).
    pub families: Option<Pattern>,
    /// `charts` pattern (templates).
    pub charts: Option<Pattern>,
    /// `plugin` pattern.
    pub plugin: Option<Pattern>,
    /// `module` pattern.
    pub module: Option<Pattern>,
    /// `host labels`: `key=value` patterns.
    pub host_labels: Option<String>,
    /// `lookup`.
    pub lookup: Option<Lookup>,
    /// `calc`.
    pub calc: Option<Arc<Expression>>,
    /// `warn`.
    pub warn: Option<Arc<Expression>>,
    /// `crit`.
    pub crit: Option<Arc<Expression>>,
    /// Seconds between evaluations.
    pub every: i64,
    /// `green` threshold (NaN: none).
    pub green: f64,
    /// `red` threshold (NaN: none).
    pub red: f64,
    /// `exec` (None: `[health] script to execute on alarm`).
    pub exec: Option<String>,
    /// `to` (None: `root`).
    pub to: Option<String>,
    /// `units` (None: the chart's).
    pub units: Option<String>,
    /// `info`.
    pub info: Option<String>,
    /// `delay`.
    pub delay: Delay,
    /// `repeat` (None: the `[health] default repeat *` settings).
    pub repeat: Option<Repeat>,
    /// `options: no-clear-notification`.
    pub no_clear_notification: bool,
    /// The file it was read from.
    pub file: Arc<Path>,
    /// The line of its `alarm:`/`template:` key.
    pub line: usize,
}

impl AlarmDef {
    /// netdata's `source`: `LINE@FILE`.
    pub fn source(&self) -> String {
        format!("{}@{}", self.line, self.file.display())
    }
}

/// A problem in a health.d file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The (last physical) line.
    pub line: usize,
    /// What is wrong, in netdata's words.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// What reading one file produced.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The valid entities, in file order.
    pub entities: Vec<AlarmDef>,
    /// Errors (each skipped a line, a key or an entity).
    pub errors: Vec<ConfigError>,
    /// Expressions that netdata 1.37 would evaluate with another precedence.
    pub precedence_warnings: Vec<ConfigError>,
}

/// The physical-to-logical line reader: trims, joins `\` continuations, drops comments.
fn logical_lines(text: &str) -> Vec<(usize, Result<String, String>)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let mut line = raw.trim().to_string();
        let mut last = i + 1;
        let mut too_long = false;
        while line.ends_with('\\') {
            line.pop();
            line.push(' ');
            match lines.next() {
                Some((j, next)) => {
                    last = j + 1;
                    line.push_str(next.trim());
                    if line.len() >= MAX_LINE {
                        too_long = true;
                        break;
                    }
                }
                None => break,
            }
        }
        if too_long {
            out.push((last, Err("has too long multi-line".into())));
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push((last, Ok(line.to_string())));
    }
    out
}

fn collapse_spaces(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

fn unquote(s: &str) -> String {
    s.replace(['\'', '"'], " ")
}

/// Parses one file's text; `file` names it in errors and in `source`.
pub fn parse(text: &str, file: &Path) -> ParsedFile {
    let file_arc: Arc<Path> = Arc::from(file);
    let mut out = ParsedFile::default();
    let mut current: Option<AlarmDef> = None;
    let err = |out: &mut ParsedFile, line: usize, message: String| {
        out.errors.push(ConfigError {
            file: file.to_path_buf(),
            line,
            message,
        });
    };
    for (line_no, line) in logical_lines(text) {
        let line = match line {
            Ok(l) => l,
            Err(m) => {
                err(
                    &mut out,
                    line_no,
                    format!("Health configuration {m} at line {line_no}."),
                );
                continue;
            }
        };
        let Some((key, value)) = line.split_once(':') else {
            err(
                &mut out,
                line_no,
                format!(
                    "Health configuration has invalid line {line_no}. It does not contain a ':'. Ignoring it."
                ),
            );
            continue;
        };
        let key = collapse_spaces(key).to_ascii_lowercase();
        let value = collapse_spaces(value);
        if key.is_empty() {
            err(
                &mut out,
                line_no,
                format!(
                    "Health configuration has invalid line {line_no}. Keyword is empty. Ignoring it."
                ),
            );
            continue;
        }
        if value.is_empty() {
            err(
                &mut out,
                line_no,
                format!(
                    "Health configuration has invalid line {line_no}. value is empty. Ignoring it."
                ),
            );
            continue;
        }
        if key == "alarm" || key == "template" {
            if let Some(d) = current.take() {
                finish(d, &mut out);
            }
            let kind = if key == "alarm" {
                Kind::Alarm
            } else {
                Kind::Template
            };
            let name = sanitize_name(&value);
            if name != value {
                err(
                    &mut out,
                    line_no,
                    format!("Health configuration renamed {key} '{value}' to '{name}'"),
                );
            }
            current = Some(new_def(kind, name, Arc::clone(&file_arc), line_no));
            continue;
        }
        let Some(draft) = current.as_mut() else {
            if key != "os" && key != "hosts" {
                err(
                    &mut out,
                    line_no,
                    format!(
                        "Health configuration at line {line_no} of file '{}' has unknown key '{key}'. Expected either 'alarm' or 'template'.",
                        file.display()
                    ),
                );
            }
            continue;
        };
        if let Err(m) = apply_key(draft, &key, &value, &mut out, file, line_no) {
            let kind = draft.kind.as_str();
            err(
                &mut out,
                line_no,
                format!(
                    "Health configuration at line {line_no} of file '{}' for {kind} '{}' {m}",
                    file.display(),
                    draft.name
                ),
            );
        }
    }
    if let Some(d) = current.take() {
        finish(d, &mut out);
    }
    out
}

fn new_def(kind: Kind, name: String, file: Arc<Path>, line: usize) -> AlarmDef {
    AlarmDef {
        kind,
        name,
        on: String::new(),
        class: None,
        type_: None,
        component: None,
        os: None,
        hosts: None,
        families: None,
        charts: None,
        plugin: None,
        module: None,
        host_labels: None,
        lookup: None,
        calc: None,
        warn: None,
        crit: None,
        every: 0,
        green: f64::NAN,
        red: f64::NAN,
        exec: None,
        to: None,
        units: None,
        info: None,
        delay: Delay::default(),
        repeat: None,
        no_clear_notification: false,
        file,
        line,
    }
}

/// Sets a text key, logging netdata's "key twice" error when it changes.
fn set_text(
    slot: &mut Option<String>,
    key: &str,
    value: String,
    out: &mut ParsedFile,
    file: &Path,
    line: usize,
    entity: &str,
) {
    if let Some(old) = slot.as_ref().filter(|old| **old != value) {
        out.errors.push(ConfigError {
            file: file.to_path_buf(),
            line,
            message: format!("Health configuration at line {line} of file '{}' for {entity} has key '{key}' twice, once with value '{old}' and later with value '{value}'. Using ('{value}').", file.display()),
        });
    }
    *slot = Some(value);
}

fn apply_key(
    d: &mut AlarmDef,
    key: &str,
    value: &str,
    out: &mut ParsedFile,
    file: &Path,
    line: usize,
) -> Result<(), String> {
    let entity = format!("{} '{}'", d.kind.as_str(), d.name);
    let template = d.kind == Kind::Template;
    match key {
        "on" => {
            if !d.on.is_empty() && d.on != value {
                out.errors.push(ConfigError { file: file.to_path_buf(), line, message: format!("Health configuration at line {line} of file '{}' for {entity} has key 'on' twice, once with value '{}' and later with value '{value}'. Using ('{value}').", file.display(), d.on) });
            }
            d.on = value.to_string();
        }
        "class" => set_text(&mut d.class, key, unquote(value), out, file, line, &entity),
        "type" => set_text(&mut d.type_, key, unquote(value), out, file, line, &entity),
        "component" => set_text(
            &mut d.component,
            key,
            unquote(value),
            out,
            file,
            line,
            &entity,
        ),
        "exec" => set_text(
            &mut d.exec,
            key,
            value.to_string(),
            out,
            file,
            line,
            &entity,
        ),
        "to" => set_text(&mut d.to, key, value.to_string(), out, file, line, &entity),
        "units" => set_text(&mut d.units, key, unquote(value), out, file, line, &entity),
        "info" => set_text(&mut d.info, key, unquote(value), out, file, line, &entity),
        "host labels" => {
            let v = value.replace(" =", "=").replace("= ", "=");
            set_text(&mut d.host_labels, key, v, out, file, line, &entity)
        }
        "os" => d.os = Some(Pattern::new(value)),
        "hosts" => d.hosts = Some(Pattern::new(value)),
        "families" if template => d.families = Some(Pattern::new(value)),
        "charts" if template => d.charts = Some(Pattern::new(value)),
        "plugin" => d.plugin = Some(Pattern::new(value)),
        "module" => d.module = Some(Pattern::new(value)),
        "lookup" => match lookup::parse(value) {
            Ok((l, warnings)) => {
                for w in warnings {
                    out.errors.push(ConfigError { file: file.to_path_buf(), line, message: format!("Health configuration at line {line} of file '{}' for {entity} at key 'lookup': {w}", file.display()) });
                }
                if let Some(e) = l.every {
                    d.every = e;
                } else {
                    d.every = l.after.abs();
                }
                d.lookup = (l.after != 0).then_some(l);
            }
            Err(e) => {
                d.lookup = None;
                return Err(format!(
                    "at key 'lookup' has invalid lookup '{value}': {}",
                    e.0
                ));
            }
        },
        "calc" | "warn" | "crit" => {
            let parsed = Expression::parse(value);
            let slot = match key {
                "calc" => &mut d.calc,
                "warn" => &mut d.warn,
                _ => &mut d.crit,
            };
            match parsed {
                Ok(e) => {
                    if let Some(nd) = e.netdata_tree() {
                        out.precedence_warnings.push(ConfigError {
                            file: file.to_path_buf(),
                            line,
                            message: format!(
                                "{entity} at key '{key}': expression '{value}' is evaluated as {} but netdata 1.37 parses it as {}; its value may differ from netdata's",
                                e.parsed_as(),
                                nd.parsed_as()
                            ),
                        });
                    }
                    *slot = Some(Arc::new(e));
                }
                Err(e) => {
                    *slot = None;
                    return Err(format!(
                        "at key '{key}' has unparse-able expression '{value}': {e}"
                    ));
                }
            }
        }
        "every" => match duration::parse(value) {
            Some(v) => d.every = v,
            None => return Err(format!("at key 'every' cannot parse duration: '{value}'.")),
        },
        "green" | "red" => {
            let (v, rest) = duration::leading_number(value);
            if key == "green" {
                d.green = v;
            } else {
                d.red = v;
            }
            if !rest.trim().is_empty() {
                return Err(format!(
                    "at key '{key}' leaves this string unmatched: '{}'.",
                    rest.trim()
                ));
            }
        }
        "delay" => parse_delay(value, &mut d.delay)?,
        "repeat" => d.repeat = Some(parse_repeat(value, d.repeat.unwrap_or_default())?),
        "options" => {
            for w in value.split_ascii_whitespace() {
                match w {
                    "no-clear-notification" | "no-clear" => d.no_clear_notification = true,
                    other => out.errors.push(ConfigError {
                        file: file.to_path_buf(),
                        line,
                        message: format!("Ignoring unknown alarm option '{other}'"),
                    }),
                }
            }
        }
        _ => return Err(format!("has unknown key '{key}'.")),
    }
    Ok(())
}

fn parse_delay(value: &str, delay: &mut Delay) -> Result<(), String> {
    let mut words = value.split_ascii_whitespace();
    let mut max_given = false;
    let mut errors = Vec::new();
    while let Some(w) = words.next() {
        let Some(v) = words.next() else {
            errors.push(format!("keyword '{w}' without a value"));
            break;
        };
        match w {
            "up" | "down" | "max" => match duration::parse(v) {
                Some(d) => match w {
                    "up" => delay.up = d,
                    "down" => delay.down = d,
                    _ => {
                        delay.max = d;
                        max_given = true;
                    }
                },
                None => errors.push(format!("invalid value '{v}' for '{w}' keyword")),
            },
            "multiplier" => {
                let (m, _) = duration::leading_number(v);
                if m.is_finite() && m > 0.0 {
                    delay.multiplier = m;
                } else {
                    errors.push(format!("invalid value '{v}' for 'multiplier' keyword"));
                }
            }
            other => errors.push(format!("unknown keyword '{other}'")),
        }
    }
    if !max_given {
        let up = (delay.up as f64 * delay.multiplier) as i64;
        let down = (delay.down as f64 * delay.multiplier) as i64;
        delay.max = up.max(down);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("at key 'delay': {}", errors.join(", ")))
    }
}

fn parse_repeat(value: &str, mut r: Repeat) -> Result<Repeat, String> {
    let mut words = value.split_ascii_whitespace();
    while let Some(w) = words.next() {
        match w {
            "off" => r = Repeat::default(),
            "warning" | "critical" => {
                let Some(d) = words.next().and_then(duration::parse) else {
                    return Err(format!("at key 'repeat': invalid value for '{w}' keyword"));
                };
                if w == "warning" {
                    r.warning = d;
                } else {
                    r.critical = d;
                }
            }
            other => return Err(format!("at key 'repeat': unknown keyword '{other}'")),
        }
    }
    Ok(r)
}

/// Validates a finished entity (netdata's order of checks) and keeps it when valid.
fn finish(d: AlarmDef, out: &mut ParsedFile) {
    let kind = d.kind.as_str();
    let problem = if d.on.is_empty() {
        Some(format!(
            "Health configuration for {kind} '{}' does not have a {}",
            d.name,
            if d.kind == Kind::Alarm {
                "chart"
            } else {
                "context"
            }
        ))
    } else if d.every == 0 && d.lookup.is_none() {
        Some(format!(
            "Health configuration for {kind} '{}.{}' has no frequency (parameter 'every'). Ignoring it.",
            d.on, d.name
        ))
    } else if d.lookup.is_none() && d.calc.is_none() && d.warn.is_none() && d.crit.is_none() {
        Some(format!(
            "Health configuration for {kind} '{}.{}' is useless (no db lookup, no calculation, no warning and no critical expressions)",
            d.on, d.name
        ))
    } else {
        None
    };
    match problem {
        Some(message) => out.errors.push(ConfigError {
            file: d.file.to_path_buf(),
            line: d.line,
            message,
        }),
        None => out.entities.push(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_case() {
        let p = parse(
            "alarm: a b!\nON: x.y\nCalc: 1 + \\\n 2\nevery: 1s\n",
            Path::new("t.conf"),
        );
        assert_eq!(p.entities.len(), 1);
        let d = &p.entities[0];
        assert_eq!(d.name, "a_b_");
        assert_eq!(d.calc.as_ref().unwrap().source(), "1 + 2");
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    }

    #[test]
    fn errors_skip_only_the_entity() {
        let p = parse(
            "alarm: nochart\ncalc: 1\nevery: 1s\n\nalarm: ok\non: a.b\ncalc: 1 <> 2\nwarn: 1\nevery: 1s\nbogus: 1\n",
            Path::new("t.conf"),
        );
        assert_eq!(p.entities.len(), 1);
        assert_eq!(p.entities[0].name, "ok");
        assert!(p.entities[0].calc.is_none());
        assert_eq!(p.errors.len(), 3, "{:?}", p.errors);
        assert!(p.errors.iter().all(|e| e.file == Path::new("t.conf")));
        assert_eq!(p.errors[0].line, 1);
    }

    #[test]
    fn netdata_precedence_differences_are_reported_with_file_and_line() {
        let p = parse(
            "alarm: x\non: a.b\nevery: 1s\ncalc: 1 || 0 && 0\nwarn: ($this > 1) && 1\n",
            Path::new("p.conf"),
        );
        assert_eq!(p.entities.len(), 1);
        assert_eq!(
            p.precedence_warnings.len(),
            1,
            "{:?}",
            p.precedence_warnings
        );
        let w = &p.precedence_warnings[0];
        assert_eq!((w.file.as_path(), w.line), (Path::new("p.conf"), 4));
        assert!(w.message.contains("((1 || 0) && 0)"), "{}", w.message);
    }

    #[test]
    fn delay_defaults_max() {
        let mut d = Delay::default();
        parse_delay("down 15m multiplier 1.5", &mut d).unwrap();
        assert_eq!((d.down, d.max), (900, 1350));
    }
}
