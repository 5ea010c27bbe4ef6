//! `/api/v1/data` (netdata's `web_client_api_request_v1_data()`): parameters, the query, and
//! the format with its content type, JSONP/Google wrappers and cache headers.

use tributary_rrd::number_format::write_i64;
use tributary_rrd::{ChartState, Host};

use crate::web::query::{self, Group, QueryError, Request, opt};
use crate::web::render::{self, Format, WrapInfo};
use crate::web::router::Reply;

/// The parsed parameters of a data request.
#[derive(Debug, Clone)]
pub struct DataParams {
    /// `chart`.
    pub chart: Option<String>,
    /// `context`.
    pub context: Option<String>,
    /// The query itself.
    pub req: Request,
    /// `format` (or `tqx=out:`).
    pub format: Format,
    /// `callback` / `tqx=responseHandler:`.
    pub callback: Option<String>,
    /// `filename` / `tqx=outFileName:`.
    pub filename: Option<String>,
    /// Google `version`, `reqId`, `sig`.
    pub google: (String, String, i64),
}

/// netdata's `str2l`: leading integer, 0 when none.
pub fn str2l(s: &str) -> i64 {
    let s = s.trim_start();
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')) {
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    s[..end].parse().unwrap_or(0)
}

/// Parses the parameters as netdata does (a parameter without a value is skipped).
pub fn parse(params: &[(String, String)], now: i64) -> DataParams {
    let mut p = DataParams {
        chart: None,
        context: None,
        req: Request {
            after: -600,
            before: 0,
            points: 0,
            group: Group::Average,
            group_options: None,
            gtime: 0,
            options: 0,
            dimensions: None,
            now,
        },
        format: Format::Json,
        callback: None,
        filename: None,
        google: ("0.6".into(), "0".into(), 0),
    };
    let mut dims: Option<String> = None;
    for (name, value) in params {
        if name.is_empty() || value.is_empty() {
            continue;
        }
        let v = value.as_str();
        match name.as_str() {
            "context" => p.context = Some(v.into()),
            "chart" => p.chart = Some(v.into()),
            "dimension" | "dim" | "dimensions" | "dims" => {
                let d = dims.get_or_insert_with(String::new);
                d.push('|');
                d.push_str(v);
            }
            "show_dimensions" => p.req.options |= opt::ALL_DIMENSIONS,
            "after" => p.req.after = str2l(v),
            "before" => p.req.before = str2l(v),
            "points" => p.req.points = str2l(v),
            "gtime" => p.req.gtime = str2l(v),
            "group_options" => p.req.group_options = Some(v.into()),
            "group" => p.req.group = Group::parse(v),
            "format" => p.format = Format::parse(v),
            "options" => p.req.options |= opt::parse(v),
            "callback" => p.callback = Some(v.into()),
            "filename" => p.filename = Some(v.into()),
            "tqx" => {
                for item in v.split(';') {
                    let Some((k, val)) = item.split_once(':') else {
                        continue;
                    };
                    if k.is_empty() || val.is_empty() {
                        continue;
                    }
                    match k {
                        "version" => p.google.0 = val.into(),
                        "reqId" => p.google.1 = val.into(),
                        "sig" => p.google.2 = str2l(val),
                        "out" => p.format = Format::parse_google(val),
                        "responseHandler" => p.callback = Some(val.into()),
                        "outFileName" => p.filename = Some(val.into()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    p.req.dimensions = dims;
    p
}

/// The query id netdata prints in the wrapper (`chart://host:H/instance:NAME/...`), written
/// into one buffer.
pub fn query_id(host: &str, chart_name: &str, p: &DataParams) -> String {
    let mut id = String::with_capacity(160);
    match &p.context {
        Some(ctx) => {
            id.push_str("context://host:");
            id.push_str(host);
            id.push_str("/contexts:");
            id.push_str(ctx);
            id.push_str("/instances:");
            id.push_str(p.chart.as_deref().unwrap_or("*"));
        }
        None => {
            id.push_str("chart://host:");
            id.push_str(host);
            id.push_str("/instance:");
            id.push_str(chart_name);
        }
    }
    id.push_str("/dimensions:");
    id.push_str(p.req.dimensions.as_deref().unwrap_or("*"));
    id.push_str("/after:");
    write_i64(&mut id, p.req.after);
    id.push_str("/before:");
    write_i64(&mut id, p.req.before);
    id.push_str("/points:");
    write_i64(&mut id, p.req.points.max(0));
    id.push_str("/group:");
    id.push_str(p.req.group.name());
    id.push_str(p.req.group_options.as_deref().unwrap_or(""));
    id.push_str("/options:");
    opt::write(&mut id, p.req.options);
    if p.req.gtime > 1 {
        id.push_str("/resampling:");
        write_i64(&mut id, p.req.gtime);
    }
    // json_fix_string(): quotes and backslashes would break the wrapper
    if id.contains(['"', '\\']) {
        id = id.replace(['"', '\\'], "_");
    }
    id
}

/// Runs the request on one chart (already locked) and renders the reply.
#[cfg(test)]
pub fn render_chart(host_name: &str, st: &ChartState, p: &DataParams) -> Reply {
    render_charts(host_name, &[st], p)
}

/// Runs the request on the charts of a context (or one chart; all locked, at least one) and
/// renders the reply; the first chart names the query and gives `all-dimensions` its lists.
pub fn render_charts(host_name: &str, charts: &[&ChartState], p: &DataParams) -> Reply {
    let Some(&st) = charts.first() else {
        return Reply::error(404, "No metrics where matched to query.");
    };
    let mut r = match query::run_many(charts, &p.req) {
        Ok(r) => r,
        Err(QueryError::NoMetrics) => {
            return Reply::error(404, "No metrics where matched to query.");
        }
    };
    let id = query_id(host_name, &st.def.name, p);
    // only `all-dimensions` prints these
    let all = r.options & opt::ALL_DIMENSIONS != 0;
    let all_dims: Vec<(String, String)> = if all {
        st.dims()
            .iter()
            .map(|d| (d.def.id.clone(), d.def.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let labels: Vec<(String, String)> = if all {
        st.labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let info = WrapInfo {
        id: &id,
        group: p.req.group.name(),
        format: p.format,
        all_dims: &all_dims,
        chart: (&st.def.id, &st.def.name),
        labels: &labels,
        // one storage tier: tributary has no dbengine tiers
        tiers: 1,
        context: p.context.is_some(),
    };
    let mut body = String::with_capacity(64 + r.rows * (12 + 10 * r.dims.len()));
    let last_updated = charts.iter().map(|c| c.last_entry_t()).max().unwrap_or(0);
    match p.format {
        Format::Datasource => {
            let handler = p
                .callback
                .as_deref()
                .unwrap_or("google.visualization.Query.setResponse");
            body.push_str(&format!(
                "{handler}({{version:'{}',reqId:'{}',status:'ok',sig:'{last_updated}',table:",
                p.google.0, p.google.1
            ));
        }
        Format::Jsonp => {
            body.push_str(p.callback.as_deref().unwrap_or("callback"));
            body.push('(');
        }
        _ => {}
    }
    let content_type = render::render(&mut r, &mut body, p.format, p.req.options, &info);
    match p.format {
        Format::Datasource => {
            if r.rows > 0 && p.google.2 >= r.before {
                let handler = p
                    .callback
                    .as_deref()
                    .unwrap_or("google.visualization.Query.setResponse");
                body = format!(
                    "{handler}({{version:'{}',reqId:'{}',status:'error',errors:[{{reason:'not_modified',message:'Data not modified'}}]}});",
                    p.google.0, p.google.1
                );
            } else {
                body.push_str("});");
            }
        }
        Format::Jsonp => body.push_str(");"),
        _ => {}
    }
    let mut reply = Reply::with(200, content_type, body);
    reply.cacheable = !r.relative;
    if let Some(f) = p.filename.as_deref().filter(|f| !f.is_empty()) {
        reply.headers.push((
            "Content-Disposition",
            format!("attachment; filename=\"{f}\""),
        ));
    }
    reply
}

/// `/api/v1/data`.
pub fn data(host: &Host, params: &[(String, String)], now: i64) -> Reply {
    let p = parse(params, now);
    let valid = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty() && s != "*");
    if !valid(&p.chart) && !valid(&p.context) {
        return Reply::error(400, "No chart or context is given.");
    }
    let charts = match (&p.context, &p.chart) {
        (None, Some(c)) => host.find_chart_by_id_or_name(c).into_iter().collect(),
        // A context query: every chart of the context (or the one named by `chart` too).
        (Some(ctx), chart) => host
            .charts()
            .into_iter()
            .filter(|c| {
                let st = c.lock();
                st.def.context == *ctx
                    && chart
                        .as_deref()
                        .is_none_or(|n| st.def.id == n || st.def.name == n)
            })
            .collect(),
        (None, None) => Vec::new(),
    };
    if charts.is_empty() {
        return Reply::error(404, "No metrics where matched to query.");
    }
    // Locked together, always in the host's order (every other path locks one chart at a
    // time, so this cannot deadlock).
    let guards: Vec<_> = charts.iter().map(|c| c.lock()).collect();
    let states: Vec<&ChartState> = guards.iter().map(|g| &**g).collect();
    render_charts(host.hostname(), &states, &p)
}
