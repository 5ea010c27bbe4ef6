//! netdata's command line (contract.md): `-c -D -i -p -P -s -t -W set S O V
//! -W simple-pattern P S -v -V -h`. Unknown options print the usage on stderr and exit 1.

use std::ffi::OsString;
use std::path::PathBuf;

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// `-c FILE`: netdata.conf to load.
    pub config_file: Option<PathBuf>,
    /// `-D`: stay in the foreground.
    pub foreground: bool,
    /// `-i IP`: address to listen on.
    pub bind_ip: Option<String>,
    /// `-p PORT`.
    pub port: Option<u16>,
    /// `-P FILE`: write the pid there.
    pub pid_file: Option<PathBuf>,
    /// `-s PATH`: prefix for /proc and /sys.
    pub host_prefix: Option<PathBuf>,
    /// `-t SECONDS`: update every of the local collectors.
    pub update_every: Option<u32>,
    /// `-W set SECTION OPTION VALUE`, in order.
    pub overrides: Vec<(String, String, String)>,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Run the agent.
    Run(Args),
    /// Print the version and exit 0.
    Version,
    /// Print the usage on stdout and exit 0.
    Help,
    /// `-W simple-pattern PATTERN STRING`: exit 0 if it matches, 1 if not.
    SimplePattern {
        /// The pattern.
        pattern: String,
        /// The string to test.
        string: String,
    },
}

/// The usage text.
pub fn usage() -> String {
    format!(
        "tributary {} - a netdata-compatible monitoring agent\n\
         \n\
         usage: tributary [options]\n\
         \n\
         \x20 -c FILE                    load this netdata.conf (default: built-in defaults)\n\
         \x20 -D                         stay in the foreground\n\
         \x20 -i IP                      listen on this address\n\
         \x20 -p PORT                    API, dashboard and stream port (default 19999)\n\
         \x20 -P FILE                    write the pid to FILE\n\
         \x20 -s PATH                    prefix for /proc and /sys\n\
         \x20 -t SECONDS                 update every of the local collectors\n\
         \x20 -W set SECTION OPTION VALUE  set a netdata.conf option (wins over the file)\n\
         \x20 -W simple-pattern PATTERN STRING  exit 0 if STRING matches PATTERN, else 1\n\
         \x20 -v, -V                     print the version and exit\n\
         \x20 -h                         this help\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn string(v: OsString) -> Result<String, lexopt::Error> {
    v.into_string().map_err(lexopt::Error::NonUnicodeValue)
}

/// Parses the command line (without the program name).
pub fn parse<I>(args: I) -> Result<Action, lexopt::Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    while let Some(arg) = p.next()? {
        match arg {
            Short('c') => a.config_file = Some(p.value()?.into()),
            Short('D') => a.foreground = true,
            Short('i') => a.bind_ip = Some(string(p.value()?)?),
            Short('p') => a.port = Some(p.value()?.parse()?),
            Short('P') => a.pid_file = Some(p.value()?.into()),
            Short('s') => a.host_prefix = Some(p.value()?.into()),
            Short('t') => {
                let t: u32 = p.value()?.parse()?;
                if t == 0 {
                    return Err(lexopt::Error::from("-t needs a number of seconds above 0"));
                }
                a.update_every = Some(t);
            }
            Short('W') => match string(p.value()?)?.as_str() {
                "set" => {
                    let section = string(p.value()?)?;
                    let option = string(p.value()?)?;
                    let value = string(p.value()?)?;
                    a.overrides.push((section, option, value));
                }
                "simple-pattern" => {
                    let pattern = string(p.value()?)?;
                    let string = string(p.value()?)?;
                    return Ok(Action::SimplePattern { pattern, string });
                }
                other => return Err(lexopt::Error::from(format!("unknown -W option '{other}'"))),
            },
            Short('v') | Short('V') | Long("version") => return Ok(Action::Version),
            Short('h') | Long("help") => return Ok(Action::Help),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Action::Run(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_netdata_flags() {
        let action = parse([
            "-c",
            "/etc/n.conf",
            "-D",
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-P",
            "/tmp/pid",
            "-s",
            "/rec",
            "-t",
            "2",
            "-W",
            "set",
            "global",
            "memory mode",
            "none",
            "-W",
            "set",
            "web",
            "mode",
            "none",
        ])
        .unwrap();
        let Action::Run(a) = action else {
            panic!("{action:?}")
        };
        assert_eq!(
            a.config_file.as_deref(),
            Some(std::path::Path::new("/etc/n.conf"))
        );
        assert!(a.foreground);
        assert_eq!(a.port, Some(0));
        assert_eq!(a.update_every, Some(2));
        assert_eq!(a.overrides.len(), 2);
        assert_eq!(
            a.overrides[0],
            ("global".into(), "memory mode".into(), "none".into())
        );
    }

    #[test]
    fn other_actions() {
        assert_eq!(parse(["-v"]).unwrap(), Action::Version);
        assert_eq!(parse(["-V"]).unwrap(), Action::Version);
        assert_eq!(parse(["-h"]).unwrap(), Action::Help);
        assert_eq!(
            parse(["-W", "simple-pattern", "a* !b", "abc"]).unwrap(),
            Action::SimplePattern {
                pattern: "a* !b".into(),
                string: "abc".into()
            }
        );
        assert!(parse(["-x"]).is_err());
        assert!(parse(["-p", "notaport"]).is_err());
        assert!(parse(["-W", "set", "a"]).is_err());
        assert!(parse(["-t", "0"]).is_err());
    }
}
