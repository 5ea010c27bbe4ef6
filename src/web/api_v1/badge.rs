//! `/api/v1/badge.svg` (web-api.md §7, fixtures `badge-*.svg`): a shields.io-style badge with
//! a label and a chart's value, sized with Verdana 11px glyph widths (the embedded script lets
//! the browser correct them), coloured by `value_color` rules.

use tributary_rrd::Host;

use super::data;
use super::param;
use crate::web::json::w;
use crate::web::query::{self, opt};
use crate::web::router::Reply;

/// Verdana's advance widths (1/1000 em) of the printable ASCII characters `' '..='~'`.
const VERDANA: [u16; 95] = [
    351, 393, 458, 818, 635, 1076, 726, 268, 454, 454, 635, 818, 363, 454, 363,
    454, // ' '..'/'
    635, 635, 635, 635, 635, 635, 635, 635, 635, 635, 454, 454, 818, 818, 818,
    545, // '0'..'?'
    1000, 683, 685, 698, 770, 632, 574, 775, 751, 420, 454, 692, 556, 842, 748,
    787, // '@'..'O'
    603, 787, 695, 683, 616, 731, 683, 988, 685, 615, 685, 454, 454, 454, 818,
    635, // 'P'..'_'
    635, 600, 623, 520, 623, 595, 351, 623, 632, 274, 344, 591, 274, 972, 632,
    606, // '`'..'o'
    623, 623, 426, 520, 394, 632, 591, 818, 591, 591, 525, 634, 454, 634, 818, // 'p'..'~'
];
const FONT_SIZE: f64 = 11.0;
const KERNING: f64 = 0.2;
const PADDING: f64 = 1.0;
const HORIZONTAL_PADDING: f64 = 4.0;

/// The width of `s` in Verdana 11px, as netdata estimates it (other characters count 1 em).
fn text_width(s: &str) -> f64 {
    let mut w = 0.0;
    let mut n = 0;
    for c in s.chars() {
        let units = match c {
            ' '..='~' => f64::from(VERDANA[c as usize - 32]),
            _ => 1000.0,
        };
        w += units * FONT_SIZE / 1000.0 + KERNING;
        n += 1;
    }
    if n > 0 {
        w -= KERNING;
    }
    w + PADDING
}

/// shields.io colour names, else a hex code (`#` added), else as given.
fn color(name: &str) -> String {
    let known = match name {
        "brightgreen" => "#4c1",
        "green" => "#97CA00",
        "yellow" => "#dfb317",
        "yellowgreen" => "#a4a61d",
        "orange" => "#fe7d37",
        "red" => "#e05d44",
        "blue" => "#007ec6",
        "grey" | "gray" => "#555",
        "lightgrey" | "lightgray" => "#9f9f9f",
        _ => "",
    };
    if !known.is_empty() {
        return known.into();
    }
    if !name.is_empty()
        && (name.len() == 3 || name.len() == 6)
        && name.chars().all(|c| c.is_ascii_hexdigit())
    {
        return format!("#{name}");
    }
    name.into()
}

/// netdata's `str2ndd`-ish: the leading number of `s` (0 when none).
fn leading_number(s: &str) -> f64 {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().unwrap_or(0.0)
}

/// `value_color`: `COLOR[OP VALUE]|...`; the first rule that matches wins, else the last
/// rule's colour. `VALUE` may be `null` (matches a missing value).
fn value_color(rules: &str, value: Option<f64>) -> String {
    let mut last = String::new();
    for rule in rules.split('|').filter(|r| !r.is_empty()) {
        let op_at = rule.find(['<', '>', '=', '!', ':']);
        let (name, cond) = match op_at {
            Some(i) => (&rule[..i], &rule[i..]),
            None => (rule, ""),
        };
        last = name.to_string();
        if cond.is_empty() {
            return color(name);
        }
        let (op, rest) = ["<=", ">=", "==", "!=", "<>", "<", ">", "=", ":"]
            .iter()
            .find_map(|op| cond.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("=", cond));
        let matched = match value {
            None => rest.starts_with("null"),
            Some(v) if !rest.starts_with("null") => {
                let x = leading_number(rest);
                match op {
                    "<" => v < x,
                    "<=" => v <= x,
                    ">" => v > x,
                    ">=" => v >= x,
                    "!=" | "<>" => v != x,
                    _ => v == x,
                }
            }
            Some(_) => false,
        };
        if matched {
            return color(name);
        }
    }
    if last.is_empty() {
        return if value.is_some() { "#4c1" } else { "#999" }.into();
    }
    color(&last)
}

/// The value as netdata prints it on a badge: `precision` decimals, or (precision < 0) a
/// number of decimals by magnitude with trailing zeros trimmed.
fn format_value(v: f64, precision: i64) -> String {
    if precision >= 0 {
        return format!("{v:.*}", precision.min(20) as usize);
    }
    let a = v.abs();
    let decimals = if a >= 1000.0 {
        return format!("{v:.0}");
    } else if a >= 10.0 {
        1
    } else if a >= 0.1 {
        2
    } else if a >= 0.01 {
        4
    } else if a >= 0.001 {
        5
    } else if a >= 0.0001 {
        6
    } else {
        7
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// `percentage`-like units print as `%` right after the number, others after a space.
fn with_units(value: &str, units: &str) -> String {
    match units {
        "" => value.into(),
        "%" | "percentage" | "percent" | "pcent" => format!("{value}%"),
        u => format!("{value} {u}"),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The SVG itself.
fn svg(
    label: &str,
    value: &str,
    label_color: &str,
    value_color: &str,
    scale: f64,
    fixed: (f64, f64),
) -> String {
    let label_w = if fixed.0 > 0.0 {
        fixed.0
    } else {
        text_width(label) + HORIZONTAL_PADDING * 2.0
    } * scale;
    let value_w = if fixed.1 > 0.0 {
        fixed.1
    } else {
        text_width(value) + HORIZONTAL_PADDING * 2.0
    } * scale;
    let total = label_w + value_w;
    let height = 20.0 * scale;
    let font = FONT_SIZE * scale;
    let (label, value) = (xml_escape(label), xml_escape(value));
    let mut o = String::with_capacity(2400);
    w!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{total:.2}\" height=\"{height:.2}\">"
    );
    o.push_str("<linearGradient id=\"smooth\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>");
    w!(
        o,
        "<mask id=\"round\"><rect class=\"bdge-ttl-width\" width=\"{total:.2}\" height=\"{height:.2}\" rx=\"{:.2}\" fill=\"#fff\"/></mask>",
        3.0 * scale
    );
    w!(
        o,
        "<g mask=\"url(#round)\"><rect class=\"bdge-rect-lbl\" width=\"{label_w:.2}\" height=\"{height:.2}\" fill=\"{}\"/>",
        xml_escape(label_color)
    );
    w!(
        o,
        "<rect class=\"bdge-rect-val\" x=\"{label_w:.2}\" width=\"{value_w:.2}\" height=\"{height:.2}\" fill=\"{}\"/>",
        xml_escape(value_color)
    );
    w!(
        o,
        "<rect class=\"bdge-ttl-width\" width=\"{total:.2}\" height=\"{height:.2}\" fill=\"url(#smooth)\"/></g>"
    );
    w!(
        o,
        "<g text-anchor=\"middle\" font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"{font:.2}\">"
    );
    let (lx, vx) = (label_w / 2.0, label_w + value_w / 2.0);
    let (y1, y2) = ((15.0 * scale).round(), (14.0 * scale).round());
    for (class, x, text, clip) in [
        ("bdge-lbl-lbl", lx, &label, "lbl-rect"),
        ("bdge-lbl-val", vx, &value, "val-rect"),
    ] {
        w!(
            o,
            "<text class=\"{class}\" x=\"{x:.2}\" y=\"{y1}\" fill=\"#010101\" fill-opacity=\".3\" clip-path=\"url(#{clip})\">{text}</text>"
        );
        w!(
            o,
            "<text class=\"{class}\" x=\"{x:.2}\" y=\"{y2}\" fill=\"#fff\" clip-path=\"url(#{clip})\">{text}</text>"
        );
    }
    o.push_str("</g>");
    // The browser knows the real text widths: this script resizes the boxes to them.
    w!(
        o,
        "<script type=\"text/javascript\">var bdg_horiz_padding = {};{}</script></svg>",
        HORIZONTAL_PADDING as i64,
        concat!(
            "function netdata_bdge_each(list, attr, value){Array.prototype.forEach.call(list, function(el){el.setAttribute(attr, value);});};",
            "var this_svg = document.currentScript.closest(\"svg\");",
            "var elem_lbl = this_svg.getElementsByClassName(\"bdge-lbl-lbl\");",
            "var elem_val = this_svg.getElementsByClassName(\"bdge-lbl-val\");",
            "var lbl_size = elem_lbl[0].getBBox();var val_size = elem_val[0].getBBox();",
            "var width_total = lbl_size.width + bdg_horiz_padding*2;",
            "this_svg.getElementsByClassName(\"bdge-rect-lbl\")[0].setAttribute(\"width\", width_total);",
            "netdata_bdge_each(elem_lbl, \"x\", (lbl_size.width / 2) + bdg_horiz_padding);",
            "netdata_bdge_each(elem_val, \"x\", width_total + (val_size.width / 2) + bdg_horiz_padding);",
            "var val_rect = this_svg.getElementsByClassName(\"bdge-rect-val\")[0];",
            "val_rect.setAttribute(\"width\", val_size.width + bdg_horiz_padding*2);",
            "val_rect.setAttribute(\"x\", width_total);",
            "width_total += val_size.width + bdg_horiz_padding*2;",
            "var width_update_elems = this_svg.getElementsByClassName(\"bdge-ttl-width\");",
            "netdata_bdge_each(width_update_elems, \"width\", width_total);",
            "this_svg.setAttribute(\"width\", width_total);"
        )
    );
    o
}

fn svg_reply(body: String, refresh: Option<i64>) -> Reply {
    let mut r = Reply::with(200, "image/svg+xml", body);
    if let Some(s) = refresh.filter(|&s| s > 0) {
        r.headers.push(("Refresh", s.to_string()));
    }
    r
}

/// `/api/v1/badge.svg`.
pub fn badge(
    state: &crate::daemon::AgentState,
    host: &Host,
    params: &[(String, String)],
    now: i64,
) -> Reply {
    let get = |k: &str| param(params, k).filter(|v| !v.is_empty());
    let num = |k: &str, default: f64| get(k).map_or(default, leading_number);
    let scale = (num("scale", 100.0) / 100.0).clamp(0.1, 100.0);
    let fixed = (num("fixed_width_lbl", 0.0), num("fixed_width_val", 0.0));
    let label_color = get("label_color").map_or_else(|| "#555".to_string(), color);
    let chart = get("chart").and_then(|c| host.find_chart_by_id_or_name(c));
    let Some(chart) = chart else {
        return svg_reply(
            svg("chart not found", "-", &label_color, "#999", scale, fixed),
            None,
        );
    };
    let st = chart.lock();
    if let Some(alarm) = get("alarm") {
        // The alarm's value with its units, colored by its status (netdata's badge colors).
        let label = get("label").map_or_else(|| alarm.replace('_', " "), str::to_string);
        let chart_id = st.def.id.clone();
        drop(st);
        let found = super::alarms::alarm_value(state, host, &chart_id, alarm);
        let (shown, vcolor) = match found {
            Some((v, units, status)) => {
                let units = get("units").map_or(units, str::to_string);
                let precision = get("precision").map_or(-1, data::str2l);
                let shown = if v.is_finite() {
                    with_units(&format_value(v, precision), &units)
                } else {
                    "-".to_string()
                };
                let color = match status {
                    tributary_health::status::Status::Critical => "#e05d44",
                    tributary_health::status::Status::Warning => "#fe7d37",
                    tributary_health::status::Status::Clear => "#4c1",
                    _ => "#999",
                };
                (shown, color)
            }
            None => ("-".to_string(), "#999"),
        };
        let refresh = match get("refresh") {
            Some("auto") => None,
            Some(v) => Some(data::str2l(v)),
            None => None,
        };
        return svg_reply(
            svg(&label, &shown, &label_color, vcolor, scale, fixed),
            refresh,
        );
    }
    let mut p = data::parse(params, now - 1);
    if get("after").is_none() {
        p.req.after = -st.update_every();
    }
    if get("points").is_none() {
        p.req.points = 1;
    }
    let refresh = match get("refresh") {
        Some("auto") => Some(st.update_every().max(p.req.before - p.req.after)),
        Some(v) => Some(data::str2l(v)),
        None => None,
    };
    let value = match query::run(&st, &p.req) {
        Ok(mut r) if r.rows > 0 => {
            let newest = (0..r.rows).max_by_key(|&i| r.t[i]).unwrap_or(0);
            crate::web::render::row_value(&mut r, newest, p.req.options)
        }
        _ => None,
    };
    let value = value.map(|v| {
        let mut v = v * num("multiply", 1.0);
        let d = num("divide", 1.0);
        if d != 0.0 {
            v /= d;
        }
        v
    });
    let label = get("label").map_or_else(|| st.def.name.clone(), str::to_string);
    let units = get("units").map_or_else(|| st.def.units.clone(), str::to_string);
    let precision = get("precision").map_or(-1, data::str2l);
    let shown = match value {
        Some(v) => {
            let v = if p.req.options & opt::DISPLAY_ABS != 0 {
                v.abs()
            } else {
                v
            };
            with_units(&format_value(v, precision), &units)
        }
        None => "-".to_string(),
    };
    let vcolor = match get("value_color") {
        Some(rules) => value_color(rules, value),
        None if value.is_some() => "#4c1".into(),
        None => "#999".into(),
    };
    svg_reply(
        svg(&label, &shown, &label_color, &vcolor, scale, fixed),
        refresh,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_verdana() {
        // netdata 1.37.1 sized "system.cpu" 73.90 and "99%" 35.22 (fixture badge-default.svg)
        assert!((text_width("system.cpu") + 8.0 - 73.90).abs() < 0.1);
        assert!((text_width("99%") + 8.0 - 35.22).abs() < 0.1);
        assert!((text_width("-") + 8.0 - 14.0).abs() < 0.01);
    }

    #[test]
    fn values_and_colors() {
        assert_eq!(format_value(99.04, -1), "99");
        assert_eq!(format_value(2.0312, -1), "2.03");
        assert_eq!(format_value(98.0, 1), "98.0");
        assert_eq!(format_value(1234.6, -1), "1235");
        assert_eq!(with_units("99", "percentage"), "99%");
        assert_eq!(with_units("98.0", "pct"), "98.0 pct");
        assert_eq!(value_color("green<50:red", Some(98.0)), "#97CA00");
        assert_eq!(value_color("green<50|red", Some(98.0)), "#e05d44");
        assert_eq!(value_color("green<50|red", Some(8.0)), "#97CA00");
        assert_eq!(value_color("grey:null|green", None), "#555");
        assert_eq!(color("ff0000"), "#ff0000");
    }
}
