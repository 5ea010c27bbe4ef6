//! tributary-config: netdata's INI-like configuration files and simple patterns.
#![forbid(unsafe_code)]
