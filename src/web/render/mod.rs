//! The output formats of `/api/v1/data` (netdata's `web/api/formatters/`): json, datatable,
//! csv family, ssv/array, the value of a row, and the `jsonwrap` wrapper. Everything is written
//! straight into one buffer ([`out::Out`]); numbers with netdata's formatting, straight into it.

pub mod dates;
pub mod out;

use out::Out;

use super::json::w;
use super::query::{Rrdr, VALUE_EMPTY, VALUE_RESET, opt};

/// The data formats (`format=`); unknown names are `json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `json`
    Json,
    /// `jsonp`
    Jsonp,
    /// `datatable`
    Datatable,
    /// `datasource` (datatable as JSONP for Google's API)
    Datasource,
    /// `csv`
    Csv,
    /// `tsv`, `tsv-excel`
    Tsv,
    /// `ssv`
    Ssv,
    /// `ssvcomma`
    SsvComma,
    /// `html`
    Html,
    /// `markdown`
    Markdown,
    /// `array`
    Array,
    /// `csvjsonarray`
    CsvJsonArray,
}

impl Format {
    /// The format called `name`.
    pub fn parse(name: &str) -> Format {
        match name {
            "datatable" => Format::Datatable,
            "datasource" => Format::Datasource,
            "jsonp" => Format::Jsonp,
            "ssv" => Format::Ssv,
            "csv" => Format::Csv,
            "tsv" | "tsv-excel" => Format::Tsv,
            "html" => Format::Html,
            "array" => Format::Array,
            "ssvcomma" => Format::SsvComma,
            "csvjsonarray" => Format::CsvJsonArray,
            "markdown" => Format::Markdown,
            _ => Format::Json,
        }
    }

    /// Google's `tqx=out:` names.
    pub fn parse_google(name: &str) -> Format {
        match name {
            "html" => Format::Html,
            "csv" => Format::Csv,
            "tsv-excel" => Format::Tsv,
            _ => Format::Datasource,
        }
    }

    /// The name echoed in the wrapper's `format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonp => "jsonp",
            Format::Datatable => "datatable",
            Format::Datasource => "datasource",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Ssv => "ssv",
            Format::SsvComma => "ssvcomma",
            Format::Html => "html",
            Format::Array => "array",
            // netdata 1.37.1's rrdr_buffer_print_format() has no case for these two.
            Format::Markdown | Format::CsvJsonArray => "unknown",
        }
    }
}

fn num(out: &mut Out, v: f64) {
    out.num(v);
}

/// Writes the value cell `idx` as netdata does: `null` (or `0` with `null2zero`) for an empty
/// slot, else the value — made absolute with `abs`, a percentage of `percent_of` (the row
/// total) with `percentage`. Returns the number written, if any.
fn write_cell(
    out: &mut Out,
    r: &Rrdr<'_>,
    idx: usize,
    options: u32,
    percent_of: Option<f64>,
) -> Option<f64> {
    if r.o[idx] & VALUE_EMPTY != 0 {
        out.push_str(if options & opt::NULL2ZERO != 0 {
            "0"
        } else {
            "null"
        });
        return None;
    }
    let absolute = options & opt::ABSOLUTE != 0;
    let mut n = r.v[idx];
    if absolute && n < 0.0 {
        n = -n;
    }
    match percent_of {
        Some(total) => {
            n = n * 100.0 / total;
            num(out, n);
        }
        // the value is its stored sample: print that, digit by digit
        None if !r.raw.is_empty() => out.stored(r.raw[idx], absolute),
        None => num(out, n),
    }
    Some(n)
}

/// With `percentage`, the result's min/max are those of the percentages written (`first`:
/// the first value of the row resets them, as netdata does).
fn track_percentage(r: &mut Rrdr<'_>, n: f64, first: &mut bool) {
    if *first {
        r.min = n;
        r.max = n;
        *first = false;
    }
    r.min = r.min.min(n);
    r.max = r.max.max(n);
}

/// The row total used by `percentage` (every queried dimension, hidden ones too).
fn row_total(r: &Rrdr<'_>, row: usize, options: u32) -> f64 {
    let nd = r.dims.len();
    let mut total = 0.0;
    for c in 0..nd {
        let mut n = r.v[row * nd + c];
        if options & opt::ABSOLUTE != 0 && n < 0.0 {
            n = -n;
        }
        total += n;
    }
    if total == 0.0 { 1.0 } else { total }
}

/// `rrdr2json()`: `json` (and `objectrows`, `google_json`) or, with `datatable`, Google's
/// DataTable.
pub fn json(r: &mut Rrdr<'_>, out: &mut Out, mut options: u32, datatable: bool) {
    let google = options & opt::GOOGLE_JSON != 0;
    let (kq, sq) = if datatable && google {
        ("", "'")
    } else {
        ("\"", "\"")
    };
    let js_dates = datatable || google;
    let with_new = !datatable && google;
    let nd = r.dims.len();
    let (pre_date, post_date, pre_label, post_label, pre_value, post_value, post_line);
    let data_begin: &str;
    let mut object_rows_time = "";
    if datatable {
        // the pieces with `kq`/`sq` spelled out: google_json drops the key quotes and uses '
        (
            pre_date, post_date, pre_label, post_label, pre_value, data_begin,
        ) = if google {
            (
                "        {c:[{v:'",
                "'}",
                ",\n     {id:'',label:'",
                "',pattern:'',type:'number'}",
                ",{v:",
                "\n  ],\n    rows:\n [\n",
            )
        } else {
            (
                "        {\"c\":[{\"v\":\"",
                "\"}",
                ",\n     {\"id\":\"\",\"label\":\"",
                "\",\"pattern\":\"\",\"type\":\"number\"}",
                ",{\"v\":",
                "\n  ],\n    \"rows\":\n [\n",
            )
        };
        post_value = "}";
        post_line = "]}";
        w!(out, "{{\n {kq}cols{kq}:\n [\n");
        w!(
            out,
            "        {{{kq}id{kq}:{sq}{sq},{kq}label{kq}:{sq}time{sq},{kq}pattern{kq}:{sq}{sq},{kq}type{kq}:{sq}datetime{sq}}},\n"
        );
        w!(
            out,
            "        {{{kq}id{kq}:{sq}{sq},{kq}label{kq}:{sq}{sq},{kq}pattern{kq}:{sq}{sq},{kq}type{kq}:{sq}string{sq},{kq}p{kq}:{{{kq}role{kq}:{sq}annotation{sq}}}}},\n"
        );
        w!(
            out,
            "        {{{kq}id{kq}:{sq}{sq},{kq}label{kq}:{sq}{sq},{kq}pattern{kq}:{sq}{sq},{kq}type{kq}:{sq}string{sq},{kq}p{kq}:{{{kq}role{kq}:{sq}annotationText{sq}}}}}"
        );
        options &= !opt::OBJECTROWS;
    } else {
        let objects = options & opt::OBJECTROWS != 0;
        pre_date = if objects { " { " } else { " [ " };
        post_date = "";
        pre_label = ",\"";
        post_label = "\"";
        pre_value = ",";
        post_value = "";
        post_line = if objects { "}" } else { "]" };
        data_begin = "],\n    \"data\":\n [\n";
        w!(out, "{{\n {kq}labels{kq}: [{sq}time{sq}");
        if objects {
            object_rows_time = "\"time\": ";
        }
    }
    let mut shown = 0;
    for c in 0..nd {
        if !r.visible(c, options) {
            continue;
        }
        out.push_str(pre_label);
        out.push_str(r.dims[c].name);
        out.push_str(post_label);
        shown += 1;
    }
    if shown == 0 {
        out.push_str(pre_label);
        out.push_str("no data");
        out.push_str(post_label);
    }
    out.push_str(data_begin);
    if shown == 0 {
        out.push_str("\n]\n}");
        return;
    }
    for (k, i) in row_order(r.rows, options).enumerate() {
        if k > 0 {
            out.push_str(",\n");
        }
        out.push_str(pre_date);
        out.push_str(object_rows_time);
        if js_dates {
            if with_new {
                out.push_str("new ");
            }
            dates::write_js_date(out, r.t[i]);
            out.push_str(post_date);
            if datatable {
                let reset = (0..nd).any(|c| r.o[i * nd + c] & VALUE_RESET != 0);
                if reset {
                    w!(
                        out,
                        ",{{{kq}v{kq}:{sq}RESET OR OVERFLOW{sq}}},{{{kq}v{kq}:{sq}The counters have been wrapped.{sq}}}"
                    );
                } else {
                    w!(out, ",{{{kq}v{kq}:null}},{{{kq}v{kq}:null}}");
                }
            }
        } else {
            out.int(r.t[i]);
            if options & opt::MILLISECONDS != 0 {
                out.push_str("000");
            }
            out.push_str(post_date);
        }
        let pct = options & opt::PERCENTAGE != 0;
        let total = if pct { row_total(r, i, options) } else { 1.0 };
        let mut set_min_max = pct;
        for c in 0..nd {
            if !r.visible(c, options) {
                continue;
            }
            out.push_str(pre_value);
            if options & opt::OBJECTROWS != 0 {
                w!(out, "{kq}{}{kq}: ", r.dims[c].name);
            }
            let idx = i * nd + c;
            if let Some(n) = write_cell(out, r, idx, options, pct.then_some(total))
                && pct
            {
                track_percentage(r, n, &mut set_min_max);
            }
            out.push_str(post_value);
        }
        out.push_str(post_line);
    }
    out.push_str("\n]\n}");
}

/// Row indexes in output order: newest first unless `flip`.
fn row_order(rows: usize, options: u32) -> impl Iterator<Item = usize> {
    let flip = options & opt::REVERSED != 0;
    (0..rows).map(move |k| if flip { k } else { rows - 1 - k })
}

/// Separators of one csv-like format.
#[derive(Debug, Clone, Copy)]
pub struct CsvStyle<'a> {
    /// Before each line.
    pub startline: &'a str,
    /// Between values.
    pub separator: &'a str,
    /// After each line.
    pub endline: &'a str,
    /// Between data lines.
    pub betweenlines: &'a str,
    /// Markdown's `:---:` line.
    pub markdown: bool,
}

/// `rrdr2csv()`.
pub fn csv(r: &mut Rrdr<'_>, out: &mut Out, options: u32, s: CsvStyle<'_>) {
    let nd = r.dims.len();
    let q = if options & opt::LABEL_QUOTES != 0 {
        "\""
    } else {
        ""
    };
    let mut shown = 0;
    for c in 0..nd {
        if !r.visible(c, options) {
            continue;
        }
        if shown == 0 {
            w!(out, "{}{q}time{q}", s.startline);
        }
        w!(out, "{}{q}{}{q}", s.separator, r.dims[c].name);
        shown += 1;
    }
    out.push_str(s.endline);
    if s.markdown {
        shown = 0;
        for c in 0..nd {
            if !r.visible(c, options) {
                continue;
            }
            if shown == 0 {
                w!(out, "{}{q}:---:{q}", s.startline);
            }
            w!(out, "{}{q}:---:{q}", s.separator);
            shown += 1;
        }
        out.push_str(s.endline);
    }
    if shown == 0 {
        return;
    }
    for i in row_order(r.rows, options) {
        out.push_str(s.betweenlines);
        out.push_str(s.startline);
        if options & (opt::SECONDS | opt::MILLISECONDS) != 0 {
            out.int(r.t[i]);
            if options & opt::MILLISECONDS != 0 {
                out.push_str("000");
            }
        } else {
            dates::write_date(out, r.t[i]);
        }
        let pct = options & opt::PERCENTAGE != 0;
        let total = if pct { row_total(r, i, options) } else { 1.0 };
        let mut set_min_max = pct;
        for c in 0..nd {
            if !r.visible(c, options) {
                continue;
            }
            out.push_str(s.separator);
            let idx = i * nd + c;
            if let Some(n) = write_cell(out, r, idx, options, pct.then_some(total))
                && pct
            {
                track_percentage(r, n, &mut set_min_max);
            }
        }
        out.push_str(s.endline);
    }
}

/// `rrdr2value()`: one number for row `i` (sum of the visible dimensions, or max - min with
/// `min2max`); None when every value of the row is empty.
pub fn row_value(r: &mut Rrdr<'_>, i: usize, options: u32) -> Option<f64> {
    let nd = r.dims.len();
    let pct = options & opt::PERCENTAGE != 0;
    let total = if pct { row_total(r, i, options) } else { 1.0 };
    let mut set_min_max = pct;
    let (mut sum, mut min, mut max) = (0.0, 0.0f64, 0.0f64);
    let (mut all_null, mut init) = (true, true);
    for c in 0..nd {
        if !r.visible(c, options) {
            continue;
        }
        let idx = i * nd + c;
        let mut n = r.v[idx];
        if options & opt::ABSOLUTE != 0 && n < 0.0 {
            n = -n;
        }
        if pct {
            n = n * 100.0 / total;
            if set_min_max {
                r.min = n;
                r.max = n;
                set_min_max = false;
            }
            r.min = r.min.min(n);
            r.max = r.max.max(n);
        }
        if init {
            if n > 0.0 {
                min = 0.0;
                max = n;
            } else {
                min = n;
                max = 0.0;
            }
            init = false;
        }
        if r.o[idx] & VALUE_EMPTY == 0 {
            all_null = false;
            sum += n;
        }
        min = min.min(n);
        max = max.max(n);
    }
    if all_null {
        return None;
    }
    Some(if options & opt::MIN2MAX != 0 {
        max - min
    } else {
        sum
    })
}

/// `rrdr2ssv()`: one value per row (`ssv`, `ssvcomma`, `array`).
pub fn ssv(r: &mut Rrdr<'_>, out: &mut Out, options: u32, prefix: &str, sep: &str, suffix: &str) {
    out.push_str(prefix);
    for (k, i) in row_order(r.rows, options).enumerate() {
        let v = row_value(r, i, options);
        let vv = v.unwrap_or(0.0);
        if k == 0 {
            r.min = vv;
            r.max = vv;
        } else {
            r.min = r.min.min(vv);
            r.max = r.max.max(vv);
        }
        if k > 0 {
            out.push_str(sep);
        }
        match v {
            None if options & opt::NULL2ZERO != 0 => out.push('0'),
            None => out.push_str("null"),
            Some(v) => num(out, v),
        }
    }
    out.push_str(suffix);
}

/// What the wrapper needs besides the result.
#[derive(Debug, Clone)]
pub struct WrapInfo<'a> {
    /// The query id (`chart://host:H/instance:NAME/...`).
    pub id: &'a str,
    /// Echoed group name.
    pub group: &'static str,
    /// Output format.
    pub format: Format,
    /// `all-dimensions`: (id, name) of every dimension of the chart.
    pub all_dims: &'a [(String, String)],
    /// `all-dimensions`: (chart id, chart name).
    pub chart: (&'a str, &'a str),
    /// `all-dimensions`: chart labels.
    pub labels: &'a [(String, String)],
    /// Storage tiers to list in `db_points_per_tier`.
    pub tiers: usize,
    /// A context query: the wrapper lists `chart_ids`.
    pub context: bool,
}

fn quoted_list<'s>(out: &mut Out, items: impl Iterator<Item = &'s str>, sq: &str) -> usize {
    let mut n = 0;
    for s in items {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(sq);
        out.push_str(s);
        out.push_str(sq);
        n += 1;
    }
    n
}

/// `rrdr_json_wrapper_begin()`: everything up to `"result": ` (plus the opening quote of a
/// string result).
pub fn wrapper_begin(
    r: &Rrdr<'_>,
    out: &mut Out,
    options: u32,
    string_value: bool,
    info: &WrapInfo<'_>,
) {
    let google = options & opt::GOOGLE_JSON != 0;
    let (kq, sq) = if google { ("", "'") } else { ("\"", "\"") };
    let nd = r.dims.len();
    let mut rows = r.rows;
    w!(
        out,
        "{{\n   {kq}api{kq}: 1,\n   {kq}id{kq}: {sq}{id}{sq},\n   {kq}name{kq}: {sq}{id}{sq},\n   {kq}view_update_every{kq}: {},\n   {kq}update_every{kq}: {},\n   {kq}first_entry{kq}: {},\n   {kq}last_entry{kq}: {},\n   {kq}before{kq}: {},\n   {kq}after{kq}: {},\n   {kq}group{kq}: {sq}{}{sq},\n   {kq}options{kq}: {sq}",
        r.view_update_every,
        r.update_every,
        r.first_entry,
        r.last_entry,
        r.before,
        r.after,
        info.group,
        id = info.id,
    );
    opt::write(out, r.options);
    w!(out, "{sq},\n   {kq}dimension_names{kq}: [");
    let visible: Vec<usize> = (0..nd).filter(|&c| r.visible(c, options)).collect();
    if quoted_list(out, visible.iter().map(|&c| r.dims[c].name), sq) == 0 {
        rows = 0;
        w!(out, "{sq}no data{sq}");
    }
    w!(out, "],\n   {kq}dimension_ids{kq}: [");
    if quoted_list(out, visible.iter().map(|&c| r.dims[c].id), sq) == 0 {
        w!(out, "{sq}no data{sq}");
    }
    out.push_str("],\n");
    if r.options & opt::ALL_DIMENSIONS != 0 {
        w!(out, "   {kq}full_dimension_list{kq}: [");
        let mut all: Vec<&(String, String)> = info.all_dims.iter().collect();
        all.dedup();
        for (k, (id, name)) in all.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            w!(out, "[\"{id}\",\"{name}\"]");
        }
        w!(
            out,
            "],\n   {kq}full_chart_list{kq}: [[\"{}\",\"{}\"]],\n   {kq}full_chart_labels{kq}: [",
            info.chart.0,
            info.chart.1
        );
        for (k, (n, v)) in info.labels.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            w!(out, "[\"{n}\", \"{v}\"]");
        }
        out.push_str("],\n");
    }
    w!(out, "   {kq}functions{kq}: [],\n");
    if info.context {
        w!(out, "   {kq}chart_ids{kq}: [");
        if quoted_list(out, visible.iter().map(|&c| r.dims[c].chart), sq) == 0 {
            rows = 0;
            w!(out, "{sq}no data{sq}");
        }
        out.push_str("],\n");
    }
    w!(out, "   {kq}latest_values{kq}: [");
    for (k, &c) in visible.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        num(out, r.dims[c].last_stored);
    }
    if visible.is_empty() {
        rows = 0;
        out.push_str("null");
    }
    w!(out, "],\n   {kq}view_latest_values{kq}: [");
    let mut shown = 0;
    if rows > 0 {
        let last = r.rows - 1;
        let pct = options & opt::PERCENTAGE != 0;
        let total = if pct {
            row_total(r, last, options)
        } else {
            1.0
        };
        for &c in &visible {
            if shown > 0 {
                out.push_str(", ");
            }
            shown += 1;
            let idx = last * nd + c;
            let _written = write_cell(out, r, idx, options, pct.then_some(total));
        }
    }
    if shown == 0 {
        rows = 0;
        out.push_str("null");
    }
    w!(
        out,
        "],\n   {kq}dimensions{kq}: {shown},\n   {kq}points{kq}: {rows},\n   {kq}format{kq}: {sq}{}{sq},\n   {kq}db_points_per_tier{kq}: [ {}",
        info.format.name(),
        r.db_points_read
    );
    for _ in 1..info.tiers {
        out.push_str(", 0");
    }
    w!(out, " ],\n   {kq}result{kq}: ");
    if string_value {
        out.push_str(sq);
    }
}

/// `rrdr_json_wrapper_end()`.
pub fn wrapper_end(r: &Rrdr<'_>, out: &mut Out, options: u32, string_value: bool) {
    let google = options & opt::GOOGLE_JSON != 0;
    let (kq, sq) = if google { ("", "'") } else { ("\"", "\"") };
    if string_value {
        out.push_str(sq);
    }
    w!(out, ",\n {kq}min{kq}: ");
    num(out, r.min);
    w!(out, ",\n {kq}max{kq}: ");
    num(out, r.max);
    out.push_str("\n}\n");
}

/// Renders the result in `format` (with the wrapper when `jsonwrap`) after what `out` holds;
/// returns the content type.
pub fn render(
    r: &mut Rrdr<'_>,
    out: &mut String,
    format: Format,
    options: u32,
    info: &WrapInfo<'_>,
) -> &'static str {
    let mut o = Out::from_string(std::mem::take(out));
    let content_type = render_into(r, &mut o, format, options, info);
    *out = o.into_string();
    content_type
}

fn render_into(
    r: &mut Rrdr<'_>,
    out: &mut Out,
    format: Format,
    options: u32,
    info: &WrapInfo<'_>,
) -> &'static str {
    const JSON: &str = "application/json; charset=utf-8";
    const TEXT: &str = "text/plain; charset=utf-8";
    const HTML: &str = "text/html; charset=utf-8";
    const JS: &str = "application/x-javascript; charset=utf-8";
    let wrap = options & opt::JSON_WRAP != 0;
    let csv_style = |sep: &'static str, wrapped: bool| CsvStyle {
        startline: "",
        separator: sep,
        endline: if wrapped { "\\n" } else { "\r\n" },
        betweenlines: "",
        markdown: false,
    };
    match format {
        Format::Ssv | Format::SsvComma => {
            let sep = if format == Format::Ssv { " " } else { "," };
            if wrap {
                wrapper_begin(r, out, options, true, info);
                ssv(r, out, options, "", sep, "");
                wrapper_end(r, out, options, true);
                JSON
            } else {
                ssv(r, out, options, "", sep, "");
                TEXT
            }
        }
        Format::Array => {
            if wrap {
                wrapper_begin(r, out, options, false, info);
            }
            ssv(r, out, options, "[", ",", "]");
            if wrap {
                wrapper_end(r, out, options, false);
            }
            JSON
        }
        Format::Csv | Format::Tsv | Format::Markdown => {
            let sep = match format {
                Format::Csv => ",",
                Format::Tsv => "\t",
                _ => "|",
            };
            let mut style = csv_style(sep, wrap);
            style.markdown = format == Format::Markdown;
            if wrap {
                wrapper_begin(r, out, options, true, info);
                csv(r, out, options, style);
                wrapper_end(r, out, options, true);
                JSON
            } else {
                csv(r, out, options, style);
                TEXT
            }
        }
        Format::CsvJsonArray => {
            if wrap {
                wrapper_begin(r, out, options, false, info);
            }
            out.push_str("[\n");
            let style = CsvStyle {
                startline: "[",
                separator: ",",
                endline: "]",
                betweenlines: ",\n",
                markdown: false,
            };
            csv(r, out, options | opt::LABEL_QUOTES, style);
            out.push_str("\n]");
            if wrap {
                wrapper_end(r, out, options, false);
            }
            JSON
        }
        Format::Html => {
            let style = CsvStyle {
                startline: "<tr><td>",
                separator: "</td><td>",
                endline: if wrap {
                    "</td></tr>\\n"
                } else {
                    "</td></tr>\n"
                },
                betweenlines: "",
                markdown: false,
            };
            if wrap {
                wrapper_begin(r, out, options, true, info);
                out.push_str("<html>\\n<center>\\n<table border=\\\"0\\\" cellpadding=\\\"5\\\" cellspacing=\\\"5\\\">\\n");
                csv(r, out, options, style);
                out.push_str("</table>\\n</center>\\n</html>\\n");
                wrapper_end(r, out, options, true);
                JSON
            } else {
                out.push_str(
                    "<html>\n<center>\n<table border=\"0\" cellpadding=\"5\" cellspacing=\"5\">\n",
                );
                csv(r, out, options, style);
                out.push_str("</table>\n</center>\n</html>\n");
                HTML
            }
        }
        Format::Datatable | Format::Datasource | Format::Jsonp | Format::Json => {
            let datatable = matches!(format, Format::Datatable | Format::Datasource);
            if wrap {
                wrapper_begin(r, out, options, false, info);
            }
            json(r, out, options, datatable);
            if wrap {
                wrapper_end(r, out, options, false);
            }
            if matches!(format, Format::Datasource | Format::Jsonp) {
                JS
            } else {
                JSON
            }
        }
    }
}
