//! tributary: a monitoring agent wire-compatible with netdata 1.37.
fn main() {
    println!("tributary {}", env!("CARGO_PKG_VERSION"));
}
