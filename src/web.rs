//! The HTTP side of port 19999: netdata's `/api/v1` for every host (`/host/NAME/...` too) and
//! `/netdata.conf`. Served with hyper on the agent's tokio runtime.

pub mod api_v1;
pub mod dashboard;
pub mod json;
pub mod query;
pub mod render;
pub mod router;
pub mod server;
pub mod static_files;

#[cfg(test)]
#[path = "web/data_path_tests.rs"]
mod data_path_tests;
#[cfg(test)]
#[path = "web/live_netdata_tests.rs"]
mod live_netdata_tests;
