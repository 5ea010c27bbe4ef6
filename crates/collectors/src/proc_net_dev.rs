//! `/proc/net/dev`: mirrors netdata's collectors/proc.plugin/proc_net_dev.c — system.net
//! (physical interfaces only) and, per interface, net.IFACE, net_packets, net_errors,
//! net_drops, net_fifo, net_compressed, net_events (each on demand), net_speed and
//! net_duplex (physical interfaces), net_operstate, net_carrier and net_mtu from
//! /sys/class/net. Interfaces matching `lo fireqos* *-ifb fwpr* fwbr* fwln*` are disabled;
//! vanished interfaces get their charts marked obsolete.

use std::fs::File;
use std::path::{Path, PathBuf};

use tributary_rrd::{ChartType, DimDef, Host};

use crate::procfile::{ProcFile, parse_u64, read_small};
use crate::{ChartDims, CollectError, OnDemand, abs, chart_def, inc, open_read, prio};

const MODULE: &str = "/proc/net/dev";
const DISABLED: &str = "lo fireqos* *-ifb fwpr* fwbr* fwln*";
const KBIT: i64 = 1000;
const OPERSTATES: [&str; 7] = [
    "up",
    "down",
    "notpresent",
    "lowerlayerdown",
    "testing",
    "dormant",
    "unknown",
];

#[derive(Debug, Default)]
struct Charts {
    bandwidth: Option<ChartDims>,
    packets: Option<ChartDims>,
    errors: Option<ChartDims>,
    drops: Option<ChartDims>,
    fifo: Option<ChartDims>,
    compressed: Option<ChartDims>,
    events: Option<ChartDims>,
    speed: Option<ChartDims>,
    duplex: Option<ChartDims>,
    operstate: Option<ChartDims>,
    carrier: Option<ChartDims>,
    mtu: Option<ChartDims>,
}

#[derive(Debug)]
struct Iface {
    name: String,
    enabled: bool,
    virtual_: bool,
    updated: bool,
    on: [OnDemand; 7],
    speed: Option<File>,
    duplex: Option<File>,
    operstate: Option<File>,
    carrier: Option<File>,
    mtu: Option<File>,
    charts: Charts,
}

/// The `/proc/net/dev` module (netdata runs it on its own thread; here it is a collector).
#[derive(Debug)]
pub struct ProcNetDev {
    prefix: PathBuf,
    path: PathBuf,
    ff: Option<ProcFile>,
    ue: u32,
    ifaces: Vec<Iface>,
    buf: [u8; 64],
    do_system: OnDemand,
    system: Option<ChartDims>,
}

impl ProcNetDev {
    /// A collector of `PREFIX/proc/net/dev` (`PREFIX/proc/1/net/dev` with a prefix, as netdata).
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetDev {
        let file = if prefix.as_os_str().is_empty() {
            "/proc/net/dev"
        } else {
            "/proc/1/net/dev"
        };
        ProcNetDev {
            prefix: prefix.to_path_buf(),
            path: crate::host_path(prefix, file),
            ff: None,
            ue: update_every,
            ifaces: Vec::new(),
            buf: [0; 64],
            do_system: OnDemand::Auto,
            system: None,
        }
    }

    fn new_iface(&self, name: &str) -> Iface {
        let sys = |f: &str| {
            File::open(crate::host_path(
                &self.prefix,
                &format!("/sys/class/net/{name}/{f}"),
            ))
            .ok()
        };
        let virtual_ =
            crate::host_path(&self.prefix, &format!("/sys/devices/virtual/net/{name}")).exists();
        Iface {
            name: name.to_string(),
            enabled: !crate::simple_pattern_matches(DISABLED, name),
            virtual_,
            updated: true,
            on: [OnDemand::Auto; 7],
            speed: if virtual_ { None } else { sys("speed") },
            duplex: if virtual_ { None } else { sys("duplex") },
            operstate: sys("operstate"),
            carrier: sys("carrier"),
            mtu: sys("mtu"),
            charts: Charts::default(),
        }
    }
}

fn read_num(f: &Option<File>, buf: &mut [u8]) -> Option<u64> {
    let f = f.as_ref()?;
    // as netdata's read_single_number_file(): a readable file with no number is 0 ("-1")
    read_small(f, buf).ok().map(parse_u64)
}

#[allow(clippy::too_many_arguments)]
fn draw(
    slot: &mut Option<ChartDims>,
    host: &Host,
    now: i64,
    vals: &[i64],
    kind: &str,
    name: &str,
    ctx: &str,
    title: &str,
    units: &str,
    pr: i64,
    ue: u32,
    ty: ChartType,
    detail: bool,
    dims: impl FnOnce() -> Vec<DimDef>,
) -> Result<(), CollectError> {
    crate::ensure(slot, host, now, || {
        let mut d = chart_def(
            &format!("{kind}.{name}"),
            name,
            Some(ctx),
            title,
            units,
            MODULE,
            pr,
            ue,
            ty,
        );
        d.detail = detail;
        (d, dims())
    })?
    .update(now, vals);
    Ok(())
}

impl crate::Collector for ProcNetDev {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        let path = std::mem::take(&mut self.path);
        let mut ff = self.ff.take();
        let r = match open_read(&mut ff, &path, " \t,|") {
            Ok(f) => self.collect_file(f, host, now),
            Err(e) => Err(e),
        };
        self.ff = ff;
        self.path = path;
        r
    }
}

impl ProcNetDev {
    fn collect_file(&mut self, ff: &ProcFile, host: &Host, now: i64) -> Result<(), CollectError> {
        let ue = self.ue;
        let pr = prio::FIRST_NET_IFACE;
        let (mut sys_r, mut sys_t) = (0i64, 0i64);
        for i in &mut self.ifaces {
            i.updated = false;
        }
        for l in 2..ff.lines() {
            if ff.line_words(l) < 17 {
                continue;
            }
            let mut name = ff.word_bytes(l, 0);
            if let Some(n) = name.strip_suffix(b":") {
                name = n;
            }
            let idx = match self.ifaces.iter().position(|i| i.name.as_bytes() == name) {
                Some(i) => i,
                None => {
                    let ni = self.new_iface(&String::from_utf8_lossy(name));
                    self.ifaces.push(ni);
                    self.ifaces.len() - 1
                }
            };
            let buf = &mut self.buf;
            let Iface {
                name: n,
                enabled,
                virtual_,
                updated,
                on,
                speed,
                duplex,
                operstate,
                carrier: carrier_file,
                mtu,
                charts: ch,
            } = &mut self.ifaces[idx];
            *updated = true;
            if !*enabled {
                continue;
            }
            let n: &str = n;
            let v = |w: usize| ff.u64_at(l, w) as i64;
            let (rbytes, rpackets, rerrors, rdrops, rfifo, rframe, rcompressed, rmulticast) =
                (v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8));
            let (tbytes, tpackets, terrors, tdrops, tfifo, tcolls, tcarrier, tcompressed) =
                (v(9), v(10), v(11), v(12), v(13), v(14), v(15), v(16));
            if !*virtual_ {
                sys_r += rbytes;
                sys_t += tbytes;
            }
            let carrier = read_num(carrier_file, buf);
            if on[0].check(rbytes != 0 || tbytes != 0) {
                draw(
                    &mut ch.bandwidth,
                    host,
                    now,
                    &[rbytes, tbytes],
                    "net",
                    n,
                    "net.net",
                    "Bandwidth",
                    "kilobits/s",
                    pr,
                    ue,
                    ChartType::Area,
                    false,
                    || vec![inc("received", 8, KBIT), inc("sent", -8, KBIT)],
                )?;
                if speed.is_some() {
                    let sp = if carrier.is_some() {
                        read_num(speed, buf)
                    } else {
                        Some(0)
                    };
                    if let Some(s) = sp {
                        draw(
                            &mut ch.speed,
                            host,
                            now,
                            &[s as i64 * 1000],
                            "net_speed",
                            n,
                            "net.speed",
                            "Interface Speed",
                            "kilobits/s",
                            pr + 7,
                            ue,
                            ChartType::Line,
                            true,
                            || vec![abs("speed", 1, 1)],
                        )?;
                    }
                }
            }
            if duplex.is_some() {
                let mut state = 2; // unknown
                if carrier.is_some()
                    && let Some(f) = duplex.as_ref()
                    && let Ok(s) = read_small(f, buf)
                {
                    state = match s.first() {
                        Some(b'f') => 0,
                        Some(b'h') => 1,
                        _ => 2,
                    };
                }
                draw(
                    &mut ch.duplex,
                    host,
                    now,
                    &[
                        (state == 0) as i64,
                        (state == 1) as i64,
                        (state == 2) as i64,
                    ],
                    "net_duplex",
                    n,
                    "net.duplex",
                    "Interface Duplex State",
                    "state",
                    pr + 8,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![abs("full", 1, 1), abs("half", 1, 1), abs("unknown", 1, 1)],
                )?;
            }
            if let Some(f) = operstate.as_ref() {
                match read_small(f, buf) {
                    Ok(s) => {
                        let st = OPERSTATES
                            .iter()
                            .position(|o| o.as_bytes() == s)
                            .unwrap_or(6);
                        let mut vals = [0i64; 7];
                        vals[st] = 1;
                        draw(
                            &mut ch.operstate,
                            host,
                            now,
                            &vals,
                            "net_operstate",
                            n,
                            "net.operstate",
                            "Interface Operational State",
                            "state",
                            pr + 9,
                            ue,
                            ChartType::Line,
                            true,
                            || OPERSTATES.iter().map(|o| abs(o, 1, 1)).collect(),
                        )?;
                    }
                    Err(_) => *operstate = None,
                }
            }
            if let Some(c) = carrier {
                draw(
                    &mut ch.carrier,
                    host,
                    now,
                    &[(c == 1) as i64, (c != 1) as i64],
                    "net_carrier",
                    n,
                    "net.carrier",
                    "Interface Physical Link State",
                    "state",
                    pr + 10,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![abs("up", 1, 1), abs("down", 1, 1)],
                )?;
            }
            if mtu.is_some() {
                match read_num(mtu, buf) {
                    Some(m) => draw(
                        &mut ch.mtu,
                        host,
                        now,
                        &[m as i64],
                        "net_mtu",
                        n,
                        "net.mtu",
                        "Interface MTU",
                        "octets",
                        pr + 11,
                        ue,
                        ChartType::Line,
                        true,
                        || vec![abs("mtu", 1, 1)],
                    )?,
                    None => *mtu = None,
                }
            }
            if on[1].check(rpackets != 0 || tpackets != 0 || rmulticast != 0) {
                draw(
                    &mut ch.packets,
                    host,
                    now,
                    &[rpackets, tpackets, rmulticast],
                    "net_packets",
                    n,
                    "net.packets",
                    "Packets",
                    "packets/s",
                    pr + 1,
                    ue,
                    ChartType::Line,
                    true,
                    || {
                        vec![
                            inc("received", 1, 1),
                            inc("sent", -1, 1),
                            inc("multicast", 1, 1),
                        ]
                    },
                )?;
            }
            if on[2].check(rerrors != 0 || terrors != 0) {
                draw(
                    &mut ch.errors,
                    host,
                    now,
                    &[rerrors, terrors],
                    "net_errors",
                    n,
                    "net.errors",
                    "Interface Errors",
                    "errors/s",
                    pr + 2,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![inc("inbound", 1, 1), inc("outbound", -1, 1)],
                )?;
            }
            if on[3].check(rdrops != 0 || tdrops != 0) {
                draw(
                    &mut ch.drops,
                    host,
                    now,
                    &[rdrops, tdrops],
                    "net_drops",
                    n,
                    "net.drops",
                    "Interface Drops",
                    "drops/s",
                    pr + 3,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![inc("inbound", 1, 1), inc("outbound", -1, 1)],
                )?;
            }
            if on[4].check(rfifo != 0 || tfifo != 0) {
                draw(
                    &mut ch.fifo,
                    host,
                    now,
                    &[rfifo, tfifo],
                    "net_fifo",
                    n,
                    "net.fifo",
                    "Interface FIFO Buffer Errors",
                    "errors",
                    pr + 4,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![inc("receive", 1, 1), inc("transmit", -1, 1)],
                )?;
            }
            if on[5].check(rcompressed != 0 || tcompressed != 0) {
                draw(
                    &mut ch.compressed,
                    host,
                    now,
                    &[rcompressed, tcompressed],
                    "net_compressed",
                    n,
                    "net.compressed",
                    "Compressed Packets",
                    "packets/s",
                    pr + 5,
                    ue,
                    ChartType::Line,
                    true,
                    || vec![inc("received", 1, 1), inc("sent", -1, 1)],
                )?;
            }
            if on[6].check(rframe != 0 || tcolls != 0 || tcarrier != 0) {
                draw(
                    &mut ch.events,
                    host,
                    now,
                    &[rframe, tcolls, tcarrier],
                    "net_events",
                    n,
                    "net.events",
                    "Network Interface Events",
                    "events/s",
                    pr + 6,
                    ue,
                    ChartType::Line,
                    true,
                    || {
                        vec![
                            inc("frames", 1, 1),
                            inc("collisions", -1, 1),
                            inc("carrier", -1, 1),
                        ]
                    },
                )?;
            }
        }
        if self.do_system.check(sys_r != 0 || sys_t != 0) {
            crate::ensure(&mut self.system, host, now, || {
                (
                    chart_def(
                        "system.net",
                        "network",
                        None,
                        "Physical Network Interfaces Aggregated Bandwidth",
                        "kilobits/s",
                        MODULE,
                        prio::SYSTEM_NET,
                        ue,
                        ChartType::Area,
                    ),
                    vec![
                        inc("InOctets", 8, KBIT).named("received"),
                        inc("OutOctets", -8, KBIT).named("sent"),
                    ],
                )
            })?
            .update(now, &[sys_r, sys_t]);
        }
        self.ifaces.retain(|i| {
            if !i.updated {
                let c = &i.charts;
                for x in [
                    &c.bandwidth,
                    &c.packets,
                    &c.errors,
                    &c.drops,
                    &c.fifo,
                    &c.compressed,
                    &c.events,
                    &c.speed,
                    &c.duplex,
                    &c.operstate,
                    &c.carrier,
                    &c.mtu,
                ]
                .into_iter()
                .flatten()
                {
                    x.obsolete();
                }
            }
            i.updated
        });
        Ok(())
    }
}
