//! tributary-collectors: Linux /proc and /sys collectors with netdata 1.37's charts.
#![forbid(unsafe_code)]
