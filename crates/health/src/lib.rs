//! tributary-health: netdata 1.37.1's health engine.
//!
//! * [`config_file`] reads the health.d configuration language (`alarm:` / `template:`
//!   entities), [`loader`] finds the files (user files shadow stock files of the same name);
//! * [`expression`] parses and evaluates `calc`/`warn`/`crit` with netdata's semantics (compiled
//!   once; netdata's quirky precedence is detected and reported);
//! * [`lookup`] runs a `lookup:` over a chart's stored samples;
//! * [`host_health`] binds alarms to charts and runs the state machine for one host,
//!   [`health`] for every host; [`log`] keeps the health log, [`notify`] builds
//!   alarm-notify.sh's command line, [`api_json`] writes the `/api/v1/alarm*` answers.
//!
//! ```
//! use tributary_health::expression::{Expression, NoVariables};
//! let e = Expression::parse("1 + 2 * 3").unwrap();
//! assert_eq!(e.evaluate(&NoVariables).unwrap(), 7.0);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod alarm;
pub mod api_json;
pub mod config_file;
pub mod duration;
pub mod expression;
pub mod grouping;
pub mod health;
pub mod host_health;
pub mod loader;
pub mod log;
pub mod lookup;
pub mod lookup_query;
pub mod notify;
pub mod scope;
pub mod status;
pub mod value_format;
