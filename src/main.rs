//! tributary: a monitoring agent wire-compatible with netdata 1.37, led by real-time streaming.
//! `main` parses the command line and hands over to [`daemon::run`]; nothing else happens here.
#![deny(unsafe_code)]

// Optional parts (cargo features, see Cargo.toml): the default build has them all; the
// headless build (`--no-default-features --features headless`) none of them.
mod cli;
mod collect;
mod daemon;
#[cfg(feature = "exporting")]
mod exporting;
#[cfg(feature = "health")]
mod health;
#[cfg(feature = "health")]
mod health_streaming;
#[cfg(any(feature = "web", feature = "health", feature = "exporting"))]
mod host_info;
mod ingest;
#[cfg(feature = "web")]
mod listener;
mod logging;
mod plugins;
mod resident;
mod settings;
mod stream;
mod system_info;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "web")]
mod web;

// The unit tests' counting allocator (no-allocation tests of the plugin and stream paths).
#[cfg(test)]
#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    let action = match cli::parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tributary: {e}\n\n{}", cli::usage());
            return ExitCode::from(1);
        }
    };
    match action {
        cli::Action::Version => {
            println!("tributary {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        cli::Action::Help => {
            print!("{}", cli::usage());
            ExitCode::SUCCESS
        }
        cli::Action::SimplePattern { pattern, string } => {
            let matched = tributary_config::SimplePattern::new(&pattern).matches(&string);
            println!(
                "'{string}' {} the simple pattern '{pattern}'",
                if matched { "matches" } else { "does not match" }
            );
            ExitCode::from(if matched { 0 } else { 1 })
        }
        cli::Action::Run(args) => match daemon::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let msg = format!("{e:#}");
                log::error!("{msg}");
                eprintln!("tributary: {msg}");
                ExitCode::from(1)
            }
        },
    }
}
