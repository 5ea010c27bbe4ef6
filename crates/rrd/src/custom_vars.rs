//! Custom variables: the `VARIABLE [HOST|CHART] name = value` values plugins and children
//! set (netdata's rrdvar "custom" host and chart variables). Health expressions read them;
//! the stream sender forwards them upstream.
//!
//! Names are kept as netdata keeps them: every character other than `[A-Za-z0-9._]` becomes
//! `_`. A set bumps [`CustomVars::version`] only when a value changes or a variable is new,
//! so a sender can tell cheaply whether it has something to send.

/// At most this many custom variables per host or chart: a plugin that invents names without
/// end cannot grow memory without bound.
pub const MAX_CUSTOM_VARS: usize = 1000;

/// The custom variables of one host or one chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomVars {
    vars: Vec<(String, f64)>,
    version: u64,
}

/// Why a custom variable was not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CustomVarError {
    /// The name is empty (or only characters netdata drops).
    #[error("empty variable name")]
    EmptyName,
    /// [`MAX_CUSTOM_VARS`] variables exist already.
    #[error("too many custom variables (at most {MAX_CUSTOM_VARS})")]
    TooMany,
}

/// netdata's variable name rule (rrdvar names, alarm and chart names in health): `[A-Za-z0-9._]`
/// kept, anything else becomes `_`.
pub fn sanitize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl CustomVars {
    /// Sets `name` (sanitized) to `value`; returns whether anything changed.
    pub fn set(&mut self, name: &str, value: f64) -> Result<bool, CustomVarError> {
        if name.is_empty() {
            return Err(CustomVarError::EmptyName);
        }
        let clean = sanitize_name(name);
        if let Some(slot) = self.vars.iter_mut().find(|(n, _)| *n == clean) {
            // NaN == NaN for this purpose: an unchanged NaN is not news.
            if slot.1.to_bits() == value.to_bits() {
                return Ok(false);
            }
            slot.1 = value;
        } else {
            if self.vars.len() >= MAX_CUSTOM_VARS {
                return Err(CustomVarError::TooMany);
            }
            self.vars.push((clean, value));
        }
        self.version += 1;
        Ok(true)
    }

    /// The value of `name` (exact, already sanitized name).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Every variable in the order first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.vars.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Bumped by every change; 0 while nothing was ever set.
    pub fn version(&self) -> u64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_as_netdata_does() {
        let mut v = CustomVars::default();
        assert_eq!(v.set("my var-1.x", 1.0), Ok(true));
        assert_eq!(v.get("my_var_1.x"), Some(1.0));
        assert_eq!(v.get("my var-1.x"), None);
    }

    #[test]
    fn only_changes_bump_the_version() {
        let mut v = CustomVars::default();
        assert_eq!(v.version(), 0);
        v.set("a", 1.0).unwrap();
        assert_eq!(v.version(), 1);
        assert_eq!(v.set("a", 1.0), Ok(false));
        assert_eq!(v.version(), 1);
        v.set("a", 2.0).unwrap();
        v.set("b", f64::NAN).unwrap();
        assert_eq!(v.set("b", f64::NAN), Ok(false));
        assert_eq!(v.version(), 3);
        let all: Vec<_> = v.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(all, ["a", "b"]);
    }

    #[test]
    fn the_number_of_variables_is_bounded() {
        let mut v = CustomVars::default();
        for i in 0..MAX_CUSTOM_VARS {
            v.set(&format!("v{i}"), 0.0).unwrap();
        }
        assert_eq!(v.set("one_more", 0.0), Err(CustomVarError::TooMany));
        // Existing ones still change.
        assert_eq!(v.set("v0", 5.0), Ok(true));
        assert_eq!(v.set("", 1.0), Err(CustomVarError::EmptyName));
    }
}
