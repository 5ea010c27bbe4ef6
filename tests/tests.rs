//! The one integration-test binary: every module starts the real `tributary` executable on
//! loopback (ports chosen by the OS) and stops it by PID.

mod support;

// Command-line behaviour: flags, exit codes, usage, config errors at start-up.
mod cli;
// The running agent: machine GUID, pid file, signals, log reopening, `[web] mode = none`.
mod lifecycle;
// Memory modes across restarts: save, map after kill -9, none, corrupt database files.
mod memory_modes;
// Local collectors under `-s PREFIX`, `[plugins]` switches, missing /proc files.
mod collectors;
// Streaming into tributary: real netdata children, refused keys, garbage on a stream.
mod streaming;
// Custom variables (VARIABLE HOST/CHART): alarms use them, parents of both kinds receive them.
mod custom_variables;
// Replication after outages: parent restarts, partitions, a headless child's spool, and real
// netdata 1.37.1 on either side.
mod replication;
// TLS on port 19999 and on streams, optional and forced, both ways with real netdata.
mod tls;
// No regression: callgrind instruction counts of the parse and store hot paths vs baselines.
mod instruction_counts;
// The headless collector's footprint (the README's headless build): under 3.8 MB RSS while streaming.
mod footprint;
// External plugins: discovery, switches, environment, restart and disable rules, no process left
// after stop (nor after a SIGKILLed agent), netdata's charts.d.plugin.
mod plugins;
// External plugins that misbehave: garbage, megabyte lines, floods, hangs; rate-limited errors.
mod plugins_bad_input;
// netdata's own plugins under tributary: apps, python.d's example, plugins with nothing to do,
// their charts on a parent.
mod plugins_real;
// The API basics every later capability builds on: info, charts, data, /host/NAME/, netdata.conf.
mod web_api;
// Every request of netdata's captured API fixtures: same status, content type, JSON structure.
mod web_fixtures;
// Health: stock alarms vs a real netdata, notifications through alarm-notify.sh, the health
// log, reloads, alarms of streamed children.
mod health;
// Exporting to real carbon, VictoriaMetrics and Prometheus; outages, backfill and faults.
mod exporting;
// tributary's own dashboard in headless chromium: host menu, charts, pan/zoom, alarms,
// streaming tree, 500 charts under a second.
mod dashboard;
