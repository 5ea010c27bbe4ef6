//! The definitions of charts and dimensions as netdata's CHART and DIMENSION lines carry them
//! (collectors/plugins.d/pluginsd_parser.c, database/rrd.h in netdata 1.37).

/// How a dimension turns collected integers into stored values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// `collected * multiplier / divisor`.
    #[default]
    Absolute,
    /// Rate per second of the collected counter, with wrap and reset detection.
    Incremental,
    /// This dimension's share (%) of the row's collected total.
    PercentageOfAbsoluteRow,
    /// This dimension's share (%) of the row's incremental total.
    PercentageOfIncrementalRow,
}

impl Algorithm {
    /// Parses netdata's algorithm names; anything unknown is `absolute`, as in netdata.
    pub fn parse(s: &str) -> Algorithm {
        match s {
            "incremental" => Algorithm::Incremental,
            "percentage-of-absolute-row" => Algorithm::PercentageOfAbsoluteRow,
            "percentage-of-incremental-row" => Algorithm::PercentageOfIncrementalRow,
            _ => Algorithm::Absolute,
        }
    }

    /// netdata's name of the algorithm.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Absolute => "absolute",
            Algorithm::Incremental => "incremental",
            Algorithm::PercentageOfAbsoluteRow => "percentage-of-absolute-row",
            Algorithm::PercentageOfIncrementalRow => "percentage-of-incremental-row",
        }
    }
}

/// How the dashboard draws a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartType {
    /// Lines.
    #[default]
    Line,
    /// Filled areas.
    Area,
    /// Stacked areas.
    Stacked,
}

impl ChartType {
    /// Parses netdata's chart type names; anything unknown is `line`.
    pub fn parse(s: &str) -> ChartType {
        match s {
            "area" => ChartType::Area,
            "stacked" => ChartType::Stacked,
            _ => ChartType::Line,
        }
    }

    /// netdata's name of the chart type.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartType::Line => "line",
            ChartType::Area => "area",
            ChartType::Stacked => "stacked",
        }
    }
}

/// Everything a CHART line says about a chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartDef {
    /// `type.id`, the chart's unique id on its host.
    pub id: String,
    /// `type.name`; the id when the collector gives no name.
    pub name: String,
    /// Human readable title.
    pub title: String,
    /// Units of every dimension.
    pub units: String,
    /// The dashboard submenu.
    pub family: String,
    /// The chart's context (charts of the same kind share it: `disk.io`).
    pub context: String,
    /// How to draw it.
    pub chart_type: ChartType,
    /// Sort order in the dashboard.
    pub priority: i64,
    /// Seconds between collections.
    pub update_every: u32,
    /// The plugin that collects it (`proc.plugin`).
    pub plugin: String,
    /// The plugin's module (`/proc/stat`).
    pub module: String,
    /// CHART option `store_first`: store the first collection instead of waiting for a second.
    pub store_first: bool,
    /// CHART option `hidden`.
    pub hidden: bool,
    /// CHART option `obsolete`.
    pub obsolete: bool,
    /// CHART option `detail`.
    pub detail: bool,
}

impl ChartDef {
    /// The part of the id before the first dot (netdata's chart "type").
    pub fn type_part(&self) -> &str {
        self.id.split_once('.').map_or(self.id.as_str(), |(t, _)| t)
    }

    /// The CHART options string as netdata writes it.
    pub fn options_string(&self) -> String {
        let mut out = Vec::new();
        if self.detail {
            out.push("detail");
        }
        if self.hidden {
            out.push("hidden");
        }
        if self.obsolete {
            out.push("obsolete");
        }
        if self.store_first {
            out.push("store_first");
        }
        out.join(" ")
    }
}

/// Everything a DIMENSION line says about a dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct DimDef {
    /// Unique id within the chart.
    pub id: String,
    /// Display name; the id when none is given.
    pub name: String,
    /// Collection algorithm.
    pub algorithm: Algorithm,
    /// Multiplier (netdata: 0 means 1).
    pub multiplier: i64,
    /// Divisor (netdata: 0 means 1).
    pub divisor: i64,
    /// Option `hidden`: stored but not drawn.
    pub hidden: bool,
    /// Option `obsolete`.
    pub obsolete: bool,
    /// Options `noreset` / `nooverflow`: counter drops do not raise the reset flag.
    pub noreset: bool,
}

impl DimDef {
    /// A dimension with netdata's defaults: absolute, 1/1.
    pub fn new(id: &str) -> DimDef {
        DimDef {
            id: id.to_string(),
            name: id.to_string(),
            algorithm: Algorithm::Absolute,
            multiplier: 1,
            divisor: 1,
            hidden: false,
            obsolete: false,
            noreset: false,
        }
    }

    /// Sets the algorithm, multiplier and divisor.
    pub fn algo(mut self, algorithm: Algorithm, multiplier: i64, divisor: i64) -> DimDef {
        self.algorithm = algorithm;
        self.multiplier = if multiplier == 0 { 1 } else { multiplier };
        self.divisor = if divisor == 0 { 1 } else { divisor };
        self
    }

    /// Sets the display name.
    pub fn named(mut self, name: &str) -> DimDef {
        self.name = name.to_string();
        self
    }

    /// The DIMENSION options string as netdata writes it.
    pub fn options_string(&self) -> String {
        let mut out = Vec::new();
        if self.obsolete {
            out.push("obsolete");
        }
        if self.hidden {
            out.push("hidden");
        }
        if self.noreset {
            out.push("noreset");
        }
        out.join(" ")
    }
}
