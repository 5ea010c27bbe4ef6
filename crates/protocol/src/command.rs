//! One parsed line of the plugins.d / streaming protocol, borrowing from the line.
//! Keywords and their argument positions follow netdata 1.37's `pluginsd_parser.c`
//! (spec: plugins-d-protocol.md §4, streaming-protocol.md).

use crate::words::{Words, parse_u64, strtoll0};

/// Why a line was refused. netdata stops reading from a plugin (or drops a stream) on these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The first word is not a keyword of the protocol.
    #[error("unknown keyword '{0}'")]
    UnknownKeyword(String),
    /// A required argument is missing.
    #[error("{keyword}: missing {what}")]
    Missing {
        /// The command.
        keyword: &'static str,
        /// The argument.
        what: &'static str,
    },
}

/// The fields of a `CHART` line (boxed in [`Command::Chart`]: the line is rare and large,
/// and every other command stays small to move).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLine<'a> {
    /// `type.id`.
    pub id: &'a str,
    /// Name (empty / `NULL` / same as id: unnamed).
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Units.
    pub units: &'a str,
    /// Family.
    pub family: &'a str,
    /// Context.
    pub context: &'a str,
    /// `line`, `area` or `stacked`.
    pub chart_type: &'a str,
    /// Priority (absent: None).
    pub priority: Option<i64>,
    /// Update every (absent or 0: None).
    pub update_every: Option<u32>,
    /// Options (`obsolete detail store_first hidden`).
    pub options: &'a str,
    /// Plugin.
    pub plugin: &'a str,
    /// Module.
    pub module: &'a str,
}

/// A command of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Command<'a> {
    /// An empty line (ignored).
    Empty,
    /// `CHART type.id name title units [family [context [charttype [priority [update_every
    /// [options [plugin [module]]]]]]]]`. Absent words are empty strings.
    Chart(Box<ChartLine<'a>>),
    /// `DIMENSION id [name [algorithm [multiplier [divisor [options]]]]]`.
    Dimension {
        /// Id.
        id: &'a str,
        /// Name.
        name: &'a str,
        /// Algorithm name.
        algorithm: &'a str,
        /// Multiplier (0 / absent → 1).
        multiplier: i64,
        /// Divisor (0 / absent → 1).
        divisor: i64,
        /// Options.
        options: &'a str,
    },
    /// `BEGIN type.id [microseconds]`.
    Begin {
        /// Chart id.
        id: &'a str,
        /// Declared microseconds since the previous collection (0: none).
        microseconds: u64,
    },
    /// `SET id = value`; `value` is None for an empty value (not collected).
    Set {
        /// Dimension id.
        id: &'a str,
        /// The collected integer.
        value: Option<i64>,
    },
    /// `END`.
    End,
    /// `FLUSH`.
    Flush,
    /// `DISABLE`.
    Disable,
    /// `CHART_DEFINITION_END [first_entry_t last_entry_t world_time_t]`: the child's
    /// retention for the current chart (0 0: none; absent world time: None).
    ChartDefinitionEnd {
        /// First entry time the child has (0: none).
        first: i64,
        /// Last entry time the child has (0: none).
        last: i64,
        /// The child's wall clock, seconds.
        world: Option<i64>,
    },
    /// `REPLAY_CHART "id" "true|false" after before`: the parent asks for a range.
    ReplayChart {
        /// Chart id.
        id: &'a str,
        /// Send what you have up to now, then start streaming the chart.
        start_streaming: bool,
        /// Start of the range (exclusive), seconds; 0 with `before` 0: nothing to replay.
        after: i64,
        /// End of the range, seconds.
        before: i64,
    },
    /// `RBEGIN "id"` (opens a reply; `id` set) or `RBEGIN '' start end wall` (one point).
    ReplayBegin {
        /// The chart, or empty for "the chart of the reply in progress".
        id: &'a str,
        /// Point start time, seconds.
        start: i64,
        /// Point end time, seconds: the slot the values are stored at.
        end: i64,
        /// The child's wall clock, seconds.
        wall: i64,
    },
    /// `RSET "dim" value "flags"`: a stored (already calculated) value; flags `R` reset,
    /// `E` empty.
    ReplaySet {
        /// Dimension id.
        id: &'a str,
        /// The stored value (NaN for an empty slot or an unparsable number).
        value: f64,
        /// Flags text.
        flags: &'a str,
    },
    /// `RDSTATE "dim" last_collected_ut last_collected last_calculated last_stored`.
    ReplayDimState {
        /// Dimension id.
        id: &'a str,
        /// Time of the dimension's last collection, µs.
        last_collected_us: i64,
        /// Its last collected integer.
        last_collected: i64,
        /// Its last calculated value.
        last_calculated: f64,
        /// Its last stored value.
        last_stored: f64,
    },
    /// `RSSTATE last_collected_ut last_updated_ut`: the chart's collection state.
    ReplayChartState {
        /// Time of the chart's last collection, µs.
        last_collected_us: i64,
        /// Time of its newest stored slot, µs.
        last_updated_us: i64,
    },
    /// `REND update_every first last start_streaming after before [wall]`.
    ReplayEnd {
        /// The child's update every for the chart.
        update_every: i64,
        /// First entry time the child has.
        first: i64,
        /// Last entry time the child has.
        last: i64,
        /// Replication of the chart is finished: live streaming follows.
        start_streaming: bool,
        /// The requested `after` as the child answered it.
        after: i64,
        /// The requested `before` as the child answered it (extended when streaming starts).
        before: i64,
        /// The child's wall clock, seconds.
        wall: Option<i64>,
    },
    /// `VARIABLE [GLOBAL|HOST|LOCAL|CHART] name = value`.
    Variable {
        /// Scope word, upper-case as sent (empty: default).
        scope: &'a str,
        /// Variable name.
        name: &'a str,
        /// Value text.
        value: &'a str,
    },
    /// `CLABEL name value source`.
    ClabelAdd {
        /// Label name.
        name: &'a str,
        /// Label value.
        value: &'a str,
        /// Source bits.
        source: u32,
    },
    /// `CLABEL_COMMIT`.
    ClabelCommit,
    /// `LABEL name = source value`.
    Label {
        /// Label name.
        name: &'a str,
        /// Source bits.
        source: u32,
        /// Value.
        value: &'a str,
    },
    /// `OVERWRITE labels`.
    Overwrite,
    /// Any other keyword of netdata 1.37's parser (FUNCTION, replication, ...) with its words.
    Other(Box<Words<'a>>),
}

/// The keywords netdata 1.37's parser accepts besides the ones with their own variant.
const OTHER_KEYWORDS: &[&str] = &[
    "FUNCTION",
    "FUNCTION_RESULT_BEGIN",
    "FUNCTION_RESULT_END",
    "TIMESTAMP",
    "CLAIMED_ID",
    "HOST_DEFINE",
    "HOST_DEFINE_END",
    "HOST_LABEL",
    "HOST",
    "BEGIN2",
    "SET2",
    "END2",
];

fn opt_i64(w: &Words<'_>, i: usize) -> Option<i64> {
    w.opt(i).filter(|s| !s.is_empty()).map(strtoll0)
}

/// A number word as netdata's `str2l`-style readers take it: absent or garbage is 0.
fn int(w: &Words<'_>, i: usize) -> i64 {
    opt_i64(w, i).unwrap_or(0)
}

/// A double as netdata's `strtondd`: `NAN`, `inf` and decimals; anything else is NaN.
pub fn parse_double(s: &str) -> f64 {
    s.trim().parse::<f64>().unwrap_or(f64::NAN)
}

fn required<'a>(
    w: &Words<'a>,
    i: usize,
    keyword: &'static str,
    what: &'static str,
) -> Result<&'a str, ParseError> {
    w.opt(i).ok_or(ParseError::Missing { keyword, what })
}

/// Parses one line (without or with its trailing newline).
#[inline]
pub fn parse_line(line: &str) -> Result<Command<'_>, ParseError> {
    match fast_path(line) {
        Some(cmd) => Ok(cmd),
        None => parse_general(line),
    }
}

/// The lines that make up nearly all of a stream — `SET "id" = value` and `END` in their
/// plain form — parsed without the general tokenizer. None for anything else (quotes with
/// backslashes, extra words, other keywords): the general parser decides, so the two always
/// agree (a property test checks it).
#[inline]
fn fast_path(line: &str) -> Option<Command<'_>> {
    let b = line.as_bytes();
    if let Some(rest) = b.strip_prefix(b"SET ") {
        return fast_set(line, b.len() - rest.len());
    }
    match b {
        b"END" | b"END\n" | b"END\r\n" => Some(Command::End),
        _ => None,
    }
}

#[inline]
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'=')
}

/// `SET` from byte `i` on: `"id" = value`, `id = value` or `id =`.
#[inline]
fn fast_set(line: &str, mut i: usize) -> Option<Command<'_>> {
    let b = line.as_bytes();
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let (id_start, id_end);
    if b.get(i) == Some(&b'"') {
        i += 1;
        id_start = i;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' {
                return None;
            }
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        id_end = i;
        i += 1;
        if i < b.len() && !is_separator(b[i]) {
            return None;
        }
    } else {
        id_start = i;
        while i < b.len() && !is_separator(b[i]) {
            if b[i] == b'\\' || b[i] == b'\'' || b[i] == b'"' {
                return None;
            }
            i += 1;
        }
        id_end = i;
        if id_start == id_end {
            return None;
        }
    }
    while i < b.len() && is_separator(b[i]) {
        i += 1;
    }
    let id = &line[id_start..id_end];
    if i >= b.len() {
        return Some(Command::Set { id, value: None });
    }
    if b[i] == b'"' || b[i] == b'\'' {
        return None;
    }
    let v_start = i;
    while i < b.len() && !is_separator(b[i]) {
        if b[i] == b'\\' {
            return None;
        }
        i += 1;
    }
    let value = &line[v_start..i];
    while i < b.len() && is_separator(b[i]) {
        i += 1;
    }
    if i < b.len() {
        return None;
    }
    Some(Command::Set {
        id,
        value: Some(strtoll0(value)),
    })
}

/// The general parser: netdata's tokenizer, then the keyword's fields.
fn parse_general(line: &str) -> Result<Command<'_>, ParseError> {
    let w = Words::split(line);
    if w.is_empty() {
        return Ok(Command::Empty);
    }
    let cmd = match w.get(0) {
        "SET" => {
            let id = w.opt(1).ok_or(ParseError::Missing {
                keyword: "SET",
                what: "dimension id",
            })?;
            let value = w.opt(2).filter(|v| !v.is_empty()).map(strtoll0);
            Command::Set { id, value }
        }
        "BEGIN" => Command::Begin {
            id: w.opt(1).ok_or(ParseError::Missing {
                keyword: "BEGIN",
                what: "chart id",
            })?,
            microseconds: parse_u64(w.get(2)),
        },
        "END" => Command::End,
        "CHART" => Command::Chart(Box::new(ChartLine {
            id: w.opt(1).ok_or(ParseError::Missing {
                keyword: "CHART",
                what: "chart id",
            })?,
            name: w.get(2),
            title: w.get(3),
            units: w.get(4),
            family: w.get(5),
            context: w.get(6),
            chart_type: w.get(7),
            priority: opt_i64(&w, 8),
            update_every: opt_i64(&w, 9)
                .filter(|&u| u > 0)
                .map(|u| u.min(86400) as u32),
            options: w.get(10),
            plugin: w.get(11),
            module: w.get(12),
        })),
        "DIMENSION" => Command::Dimension {
            id: w.opt(1).ok_or(ParseError::Missing {
                keyword: "DIMENSION",
                what: "dimension id",
            })?,
            name: w.get(2),
            algorithm: w.get(3),
            multiplier: opt_i64(&w, 4).filter(|&m| m != 0).unwrap_or(1),
            divisor: opt_i64(&w, 5).filter(|&d| d != 0).unwrap_or(1),
            options: w.get(6),
        },
        "FLUSH" => Command::Flush,
        "DISABLE" => Command::Disable,
        "CHART_DEFINITION_END" => Command::ChartDefinitionEnd {
            first: int(&w, 1),
            last: int(&w, 2),
            world: opt_i64(&w, 3),
        },
        "REPLAY_CHART" => Command::ReplayChart {
            id: required(&w, 1, "REPLAY_CHART", "chart id")?,
            start_streaming: w.get(2) == "true",
            after: int(&w, 3),
            before: int(&w, 4),
        },
        "RBEGIN" => Command::ReplayBegin {
            id: required(&w, 1, "RBEGIN", "chart id")?,
            start: int(&w, 2),
            end: int(&w, 3),
            wall: int(&w, 4),
        },
        "RSET" => Command::ReplaySet {
            id: required(&w, 1, "RSET", "dimension id")?,
            value: parse_double(w.get(2)),
            flags: w.get(3),
        },
        "RDSTATE" => Command::ReplayDimState {
            id: required(&w, 1, "RDSTATE", "dimension id")?,
            last_collected_us: int(&w, 2),
            last_collected: int(&w, 3),
            last_calculated: parse_double(w.get(4)),
            last_stored: parse_double(w.get(5)),
        },
        "RSSTATE" => Command::ReplayChartState {
            last_collected_us: int(&w, 1),
            last_updated_us: int(&w, 2),
        },
        "REND" => {
            if w.len() < 7 {
                return Err(ParseError::Missing {
                    keyword: "REND",
                    what: "its six values",
                });
            }
            Command::ReplayEnd {
                update_every: int(&w, 1),
                first: int(&w, 2),
                last: int(&w, 3),
                start_streaming: w.get(4) == "true",
                after: int(&w, 5),
                before: int(&w, 6),
                wall: opt_i64(&w, 7),
            }
        }
        "VARIABLE" => {
            let scoped = matches!(w.get(1), "GLOBAL" | "HOST" | "LOCAL" | "CHART");
            let (scope, at) = if scoped { (w.get(1), 2) } else { ("", 1) };
            Command::Variable {
                scope,
                name: w.opt(at).ok_or(ParseError::Missing {
                    keyword: "VARIABLE",
                    what: "name",
                })?,
                value: w.get(at + 1),
            }
        }
        "CLABEL" => Command::ClabelAdd {
            name: w.opt(1).ok_or(ParseError::Missing {
                keyword: "CLABEL",
                what: "name",
            })?,
            value: w.get(2),
            source: parse_u64(w.get(3)).min(u64::from(u32::MAX)) as u32,
        },
        "CLABEL_COMMIT" => Command::ClabelCommit,
        "LABEL" => Command::Label {
            name: w.opt(1).ok_or(ParseError::Missing {
                keyword: "LABEL",
                what: "name",
            })?,
            source: parse_u64(w.get(2)).min(u64::from(u32::MAX)) as u32,
            value: w.get(3),
        },
        "OVERWRITE" => Command::Overwrite,
        k if OTHER_KEYWORDS.contains(&k) => Command::Other(Box::new(w)),
        k => return Err(ParseError::UnknownKeyword(k.chars().take(64).collect())),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_fast_path_takes_plain_lines_and_leaves_the_rest() {
        assert_eq!(
            fast_path("SET \"user\" = 1234"),
            Some(Command::Set {
                id: "user",
                value: Some(1234)
            })
        );
        assert_eq!(
            fast_path("SET x=-5\n"),
            Some(Command::Set {
                id: "x",
                value: Some(-5)
            })
        );
        assert_eq!(
            fast_path("SET x = "),
            Some(Command::Set {
                id: "x",
                value: None
            })
        );
        assert_eq!(fast_path("END\n"), Some(Command::End));
        for slow in [
            "SET \"a\\\"b\" = 1",
            "SET \"a\"b = 1",
            "SET x = 1 extra",
            "SET x = \"\"",
            "SET 'x' = 1",
            "SET  ",
            "BEGIN x",
            " END",
        ] {
            assert_eq!(fast_path(slow), None, "{slow}");
        }
    }

    #[test]
    fn parses_the_commands_of_the_capture() {
        let c = parse_line(
            r#"CHART "cm.abs" "" "collection math cm.abs" "units" "cm" "cm.abs" "line" 1000 1 "" "collmath" "cm""#,
        )
        .unwrap();
        match c {
            Command::Chart(c) => {
                let ChartLine {
                    id,
                    name,
                    units,
                    priority,
                    update_every,
                    plugin,
                    module,
                    ..
                } = *c;
                assert_eq!((id, name, units), ("cm.abs", "", "units"));
                assert_eq!((priority, update_every), (Some(1000), Some(1)));
                assert_eq!((plugin, module), ("collmath", "cm"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_line(r#"DIMENSION "neg" "neg" "absolute" -8 1024 """#).unwrap(),
            Command::Dimension {
                id: "neg",
                name: "neg",
                algorithm: "absolute",
                multiplier: -8,
                divisor: 1024,
                options: ""
            }
        );
        assert_eq!(
            parse_line("BEGIN \"cm.abs\" 1000000").unwrap(),
            Command::Begin {
                id: "cm.abs",
                microseconds: 1_000_000
            }
        );
        assert_eq!(
            parse_line("SET \"one\" = 017").unwrap(),
            Command::Set {
                id: "one",
                value: Some(15)
            }
        );
        assert_eq!(
            parse_line("SET \"b\" = ").unwrap(),
            Command::Set {
                id: "b",
                value: None
            }
        );
        assert_eq!(parse_line("END\n").unwrap(), Command::End);
        assert_eq!(parse_line("   \n").unwrap(), Command::Empty);
        assert_eq!(
            parse_line("VARIABLE CHART myvar = 42.5").unwrap(),
            Command::Variable {
                scope: "CHART",
                name: "myvar",
                value: "42.5"
            }
        );
        assert_eq!(
            parse_line("LABEL \"_os\" = 1 \"linux\"").unwrap(),
            Command::Label {
                name: "_os",
                source: 1,
                value: "linux"
            }
        );
    }

    #[test]
    fn parses_replication_as_netdata_sends_it() {
        assert_eq!(
            parse_line("CHART_DEFINITION_END 1795569459 1795569488 1795569489").unwrap(),
            Command::ChartDefinitionEnd {
                first: 1_795_569_459,
                last: 1_795_569_488,
                world: Some(1_795_569_489)
            }
        );
        assert_eq!(
            parse_line("CHART_DEFINITION_END").unwrap(),
            Command::ChartDefinitionEnd {
                first: 0,
                last: 0,
                world: None
            }
        );
        assert_eq!(
            parse_line(r#"REPLAY_CHART "fakechild.sine" "true" 1795569459 1795569488"#).unwrap(),
            Command::ReplayChart {
                id: "fakechild.sine",
                start_streaming: true,
                after: 1_795_569_459,
                before: 1_795_569_488
            }
        );
        assert_eq!(
            parse_line("RBEGIN '' 1795569459 1795569460 1795569489").unwrap(),
            Command::ReplayBegin {
                id: "",
                start: 1_795_569_459,
                end: 1_795_569_460,
                wall: 1_795_569_489
            }
        );
        match parse_line(r#"RSET "s1" NAN "E""#).unwrap() {
            Command::ReplaySet { id, value, flags } => {
                assert_eq!((id, flags), ("s1", "E"));
                assert!(value.is_nan());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_line(r#"RSET "s1" -0.1400000 """#).unwrap(),
            Command::ReplaySet {
                id: "s1",
                value: -0.14,
                flags: ""
            }
        );
        assert_eq!(
            parse_line(r#"RDSTATE "c1" 1795569488000000 8977847440 0.0000000 5.0000000"#).unwrap(),
            Command::ReplayDimState {
                id: "c1",
                last_collected_us: 1_795_569_488_000_000,
                last_collected: 8_977_847_440,
                last_calculated: 0.0,
                last_stored: 5.0
            }
        );
        assert_eq!(
            parse_line("RSSTATE 1795569306808298 0").unwrap(),
            Command::ReplayChartState {
                last_collected_us: 1_795_569_306_808_298,
                last_updated_us: 0
            }
        );
        assert_eq!(
            parse_line("REND 1 0 1795569306 true 0 0 1795569306").unwrap(),
            Command::ReplayEnd {
                update_every: 1,
                first: 0,
                last: 1_795_569_306,
                start_streaming: true,
                after: 0,
                before: 0,
                wall: Some(1_795_569_306)
            }
        );
        assert!(parse_line("REND 1 0").is_err());
        assert!(parse_line("RSET").is_err());
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(
            parse_line("HELLO world"),
            Err(ParseError::UnknownKeyword("HELLO".into()))
        );
        assert!(parse_line("SET").is_err());
        assert!(parse_line("BEGIN").is_err());
        assert!(parse_line("DIMENSION").is_err());
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_general_parser(
            line in "(SET|END|SET |SE)[ =\"'\\\\a-c0-9x\r\n-]{0,24}"
        ) {
            if let Some(fast) = fast_path(&line) {
                prop_assert_eq!(Ok(fast), parse_general(&line));
            }
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,300}") {
            let _ignored = parse_line(&s);
        }

        #[test]
        fn set_lines_round_trip(id in "[a-z_][a-z0-9_.]{0,20}", v in any::<i64>()) {
            let line = format!("SET \"{id}\" = {v}\n");
            prop_assert_eq!(parse_line(&line).unwrap(), Command::Set { id: &id, value: Some(v) });
        }
    }
}
