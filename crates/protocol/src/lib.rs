//! tributary-protocol: the plugins.d and streaming line protocol of netdata 1.37.
#![forbid(unsafe_code)]
