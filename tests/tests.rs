//! The one integration-test binary: every module starts the real `tributary` executable.

// Command-line behaviour: flags, exit codes, usage.
mod cli;
