//! `/proc/net/netstat`, `/proc/net/snmp` and `/proc/net/snmp6`: mirrors netdata's
//! collectors/proc.plugin/proc_net_netstat.c (in 1.37 it reads all three files) — system.ip,
//! ip.* (IpExt and TcpExt), ipv4.* (snmp), system.ipv6 and ipv6.* (snmp6). Every chart is
//! "on demand": it appears once one of its counters is non-zero.
//!
//! The charts are described by a table; a counter is named `Section.Key` for the header/value
//! line pairs of netstat and snmp, and by its own name for snmp6.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tributary_rrd::{Algorithm, ChartType, DimDef, Host};

use crate::procfile::ProcFile;
use crate::{ChartDims, CollectError, OnDemand, chart_def, prio};

const MODULE: &str = "/proc/net/netstat";
const KBIT: i64 = 1000;

/// A dimension: counter, dimension id, name ("" = the id), multiplier, divisor, absolute?
struct D(&'static str, &'static str, &'static str, i64, i64, bool);

/// A chart of the table.
struct Spec {
    id: &'static str,
    family: &'static str,
    title: &'static str,
    units: &'static str,
    priority: i64,
    chart_type: ChartType,
    detail: bool,
    dims: &'static [D],
    /// Counters that make it appear; empty: all of its dimensions.
    cond: &'static [&'static str],
}

const fn i(src: &'static str, id: &'static str, name: &'static str, mul: i64) -> D {
    D(src, id, name, mul, 1, false)
}
const fn kb(src: &'static str, id: &'static str, name: &'static str, mul: i64) -> D {
    D(src, id, name, mul, KBIT, false)
}

use ChartType::{Area, Line};

const ICMP_COND: &[&str] = &[
    "Icmp.InMsgs",
    "Icmp.OutMsgs",
    "Icmp.InErrors",
    "Icmp.OutErrors",
    "Icmp.InCsumErrors",
];
const UDPLITE_COND: &[&str] = &[
    "UdpLite.InDatagrams",
    "UdpLite.OutDatagrams",
    "UdpLite.NoPorts",
    "UdpLite.InErrors",
    "UdpLite.InCsumErrors",
    "UdpLite.RcvbufErrors",
    "UdpLite.SndbufErrors",
    "UdpLite.IgnoredMulti",
];

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    // ---- /proc/net/netstat IpExt / TcpExt
    Spec { id: "system.ip", family: "network", title: "IP Bandwidth", units: "kilobits/s", priority: prio::SYSTEM_IP, chart_type: Area, detail: false,
        dims: &[kb("IpExt.InOctets", "InOctets", "received", 8), kb("IpExt.OutOctets", "OutOctets", "sent", -8)], cond: &[] },
    Spec { id: "ip.inerrors", family: "errors", title: "IP Input Errors", units: "packets/s", priority: prio::IP_ERRORS, chart_type: Line, detail: true,
        dims: &[i("IpExt.InNoRoutes", "InNoRoutes", "noroutes", 1), i("IpExt.InTruncatedPkts", "InTruncatedPkts", "truncated", 1),
            i("IpExt.InCsumErrors", "InCsumErrors", "checksum", 1)],
        cond: &["IpExt.InNoRoutes", "IpExt.InTruncatedPkts"] },
    Spec { id: "ip.mcast", family: "multicast", title: "IP Multicast Bandwidth", units: "kilobits/s", priority: prio::IP_MCAST, chart_type: Area, detail: true,
        dims: &[kb("IpExt.InMcastOctets", "InMcastOctets", "received", 8), kb("IpExt.OutMcastOctets", "OutMcastOctets", "sent", -8)], cond: &[] },
    Spec { id: "ip.bcast", family: "broadcast", title: "IP Broadcast Bandwidth", units: "kilobits/s", priority: prio::IP_BCAST, chart_type: Area, detail: true,
        dims: &[kb("IpExt.InBcastOctets", "InBcastOctets", "received", 8), kb("IpExt.OutBcastOctets", "OutBcastOctets", "sent", -8)], cond: &[] },
    Spec { id: "ip.mcastpkts", family: "multicast", title: "IP Multicast Packets", units: "packets/s", priority: prio::IP_MCAST_PACKETS, chart_type: Line, detail: true,
        dims: &[i("IpExt.InMcastPkts", "InMcastPkts", "received", 1), i("IpExt.OutMcastPkts", "OutMcastPkts", "sent", -1)], cond: &[] },
    Spec { id: "ip.bcastpkts", family: "broadcast", title: "IP Broadcast Packets", units: "packets/s", priority: prio::IP_BCAST_PACKETS, chart_type: Line, detail: true,
        dims: &[i("IpExt.InBcastPkts", "InBcastPkts", "received", 1), i("IpExt.OutBcastPkts", "OutBcastPkts", "sent", -1)], cond: &[] },
    Spec { id: "ip.ecnpkts", family: "ecn", title: "IP ECN Statistics", units: "packets/s", priority: prio::IP_ECN, chart_type: Line, detail: true,
        dims: &[i("IpExt.InCEPkts", "InCEPkts", "CEP", 1), i("IpExt.InNoECTPkts", "InNoECTPkts", "NoECTP", -1),
            i("IpExt.InECT0Pkts", "InECT0Pkts", "ECTP0", 1), i("IpExt.InECT1Pkts", "InECT1Pkts", "ECTP1", 1)], cond: &[] },
    Spec { id: "ip.tcpmemorypressures", family: "tcp", title: "TCP Memory Pressures", units: "events/s", priority: prio::IP_TCP_MEM, chart_type: Line, detail: false,
        dims: &[i("TcpExt.TCPMemoryPressures", "TCPMemoryPressures", "pressures", 1)], cond: &[] },
    Spec { id: "ip.tcpconnaborts", family: "tcp", title: "TCP Connection Aborts", units: "connections/s", priority: prio::IP_TCP_CONNABORTS, chart_type: Line, detail: false,
        dims: &[i("TcpExt.TCPAbortOnData", "TCPAbortOnData", "baddata", 1), i("TcpExt.TCPAbortOnClose", "TCPAbortOnClose", "userclosed", 1),
            i("TcpExt.TCPAbortOnMemory", "TCPAbortOnMemory", "nomemory", 1), i("TcpExt.TCPAbortOnTimeout", "TCPAbortOnTimeout", "timeout", 1),
            i("TcpExt.TCPAbortOnLinger", "TCPAbortOnLinger", "linger", 1), i("TcpExt.TCPAbortFailed", "TCPAbortFailed", "failed", -1)], cond: &[] },
    Spec { id: "ip.tcpreorders", family: "tcp", title: "TCP Reordered Packets by Detection Method", units: "packets/s", priority: prio::IP_TCP_REORDERS, chart_type: Line, detail: false,
        dims: &[i("TcpExt.TCPTSReorder", "TCPTSReorder", "timestamp", 1), i("TcpExt.TCPSACKReorder", "TCPSACKReorder", "sack", 1),
            i("TcpExt.TCPFACKReorder", "TCPFACKReorder", "fack", 1), i("TcpExt.TCPRenoReorder", "TCPRenoReorder", "reno", 1)], cond: &[] },
    Spec { id: "ip.tcpofo", family: "tcp", title: "TCP Out-Of-Order Queue", units: "packets/s", priority: prio::IP_TCP_OFO, chart_type: Line, detail: false,
        dims: &[i("TcpExt.TCPOFOQueue", "TCPOFOQueue", "inqueue", 1), i("TcpExt.TCPOFODrop", "TCPOFODrop", "dropped", -1),
            i("TcpExt.TCPOFOMerge", "TCPOFOMerge", "merged", 1), i("TcpExt.OfoPruned", "OfoPruned", "pruned", -1)],
        cond: &["TcpExt.TCPOFOQueue", "TcpExt.TCPOFODrop", "TcpExt.TCPOFOMerge"] },
    Spec { id: "ip.tcpsyncookies", family: "tcp", title: "TCP SYN Cookies", units: "packets/s", priority: prio::IP_TCP_SYNCOOKIES, chart_type: Line, detail: false,
        dims: &[i("TcpExt.SyncookiesRecv", "SyncookiesRecv", "received", 1), i("TcpExt.SyncookiesSent", "SyncookiesSent", "sent", -1),
            i("TcpExt.SyncookiesFailed", "SyncookiesFailed", "failed", -1)], cond: &[] },
    Spec { id: "ip.tcp_syn_queue", family: "tcp", title: "TCP SYN Queue Issues", units: "packets/s", priority: prio::IP_TCP_SYN_QUEUE, chart_type: Line, detail: false,
        dims: &[i("TcpExt.TCPReqQFullDrop", "TCPReqQFullDrop", "drops", 1), i("TcpExt.TCPReqQFullDoCookies", "TCPReqQFullDoCookies", "cookies", 1)], cond: &[] },
    Spec { id: "ip.tcp_accept_queue", family: "tcp", title: "TCP Accept Queue Issues", units: "packets/s", priority: prio::IP_TCP_ACCEPT_QUEUE, chart_type: Line, detail: false,
        dims: &[i("TcpExt.ListenOverflows", "ListenOverflows", "overflows", 1), i("TcpExt.ListenDrops", "ListenDrops", "drops", 1)], cond: &[] },
    // ---- /proc/net/snmp
    Spec { id: "ipv4.packets", family: "packets", title: "IPv4 Packets", units: "packets/s", priority: prio::IPV4_PACKETS, chart_type: Line, detail: false,
        dims: &[i("Ip.InReceives", "InReceives", "received", 1), i("Ip.OutRequests", "OutRequests", "sent", -1),
            i("Ip.ForwDatagrams", "ForwDatagrams", "forwarded", 1), i("Ip.InDelivers", "InDelivers", "delivered", 1)], cond: &[] },
    Spec { id: "ipv4.fragsout", family: "fragments", title: "IPv4 Fragments Sent", units: "packets/s", priority: prio::IPV4_FRAGMENTS, chart_type: Line, detail: true,
        dims: &[i("Ip.FragOKs", "FragOKs", "ok", 1), i("Ip.FragFails", "FragFails", "failed", -1), i("Ip.FragCreates", "FragCreates", "created", 1)], cond: &[] },
    Spec { id: "ipv4.fragsin", family: "fragments", title: "IPv4 Fragments Reassembly", units: "packets/s", priority: prio::IPV4_FRAGMENTS + 1, chart_type: Line, detail: true,
        dims: &[i("Ip.ReasmOKs", "ReasmOKs", "ok", 1), i("Ip.ReasmFails", "ReasmFails", "failed", -1), i("Ip.ReasmReqds", "ReasmReqds", "all", 1)], cond: &[] },
    Spec { id: "ipv4.errors", family: "errors", title: "IPv4 Errors", units: "packets/s", priority: prio::IPV4_ERRORS, chart_type: Line, detail: true,
        dims: &[i("Ip.InDiscards", "InDiscards", "", 1), i("Ip.OutDiscards", "OutDiscards", "", -1), i("Ip.InHdrErrors", "InHdrErrors", "", 1),
            i("Ip.OutNoRoutes", "OutNoRoutes", "", -1), i("Ip.InAddrErrors", "InAddrErrors", "", 1), i("Ip.InUnknownProtos", "InUnknownProtos", "", 1)], cond: &[] },
    Spec { id: "ipv4.icmp", family: "icmp", title: "IPv4 ICMP Packets", units: "packets/s", priority: prio::IPV4_ICMP, chart_type: Line, detail: false,
        dims: &[i("Icmp.InMsgs", "InMsgs", "received", 1), i("Icmp.OutMsgs", "OutMsgs", "sent", -1)], cond: ICMP_COND },
    Spec { id: "ipv4.icmp_errors", family: "icmp", title: "IPv4 ICMP Errors", units: "packets/s", priority: prio::IPV4_ICMP + 1, chart_type: Line, detail: false,
        dims: &[i("Icmp.InErrors", "InErrors", "", 1), i("Icmp.OutErrors", "OutErrors", "", -1), i("Icmp.InCsumErrors", "InCsumErrors", "", 1)], cond: ICMP_COND },
    Spec { id: "ipv4.icmpmsg", family: "icmp", title: "IPv4 ICMP Messages", units: "packets/s", priority: prio::IPV4_ICMP + 2, chart_type: Line, detail: false,
        dims: &[i("IcmpMsg.InType0", "InType0", "InEchoReps", 1), i("IcmpMsg.OutType0", "OutType0", "OutEchoReps", -1),
            i("IcmpMsg.InType3", "InType3", "InDestUnreachs", 1), i("IcmpMsg.OutType3", "OutType3", "OutDestUnreachs", -1),
            i("IcmpMsg.InType5", "InType5", "InRedirects", 1), i("IcmpMsg.OutType5", "OutType5", "OutRedirects", -1),
            i("IcmpMsg.InType8", "InType8", "InEchos", 1), i("IcmpMsg.OutType8", "OutType8", "OutEchos", -1),
            i("IcmpMsg.InType9", "InType9", "InRouterAdvert", 1), i("IcmpMsg.OutType9", "OutType9", "OutRouterAdvert", -1),
            i("IcmpMsg.InType10", "InType10", "InRouterSelect", 1), i("IcmpMsg.OutType10", "OutType10", "OutRouterSelect", -1),
            i("IcmpMsg.InType11", "InType11", "InTimeExcds", 1), i("IcmpMsg.OutType11", "OutType11", "OutTimeExcds", -1),
            i("IcmpMsg.InType12", "InType12", "InParmProbs", 1), i("IcmpMsg.OutType12", "OutType12", "OutParmProbs", -1),
            i("IcmpMsg.InType13", "InType13", "InTimestamps", 1), i("IcmpMsg.OutType13", "OutType13", "OutTimestamps", -1),
            i("IcmpMsg.InType14", "InType14", "InTimestampReps", 1), i("IcmpMsg.OutType14", "OutType14", "OutTimestampReps", -1)], cond: &[] },
    Spec { id: "ipv4.tcpsock", family: "tcp", title: "IPv4 TCP Connections", units: "active connections", priority: prio::IPV4_TCP, chart_type: Line, detail: false,
        dims: &[D("Tcp.CurrEstab", "CurrEstab", "connections", 1, 1, true)], cond: &[] },
    Spec { id: "ipv4.tcppackets", family: "tcp", title: "IPv4 TCP Packets", units: "packets/s", priority: prio::IPV4_TCP + 4, chart_type: Line, detail: false,
        dims: &[i("Tcp.InSegs", "InSegs", "received", 1), i("Tcp.OutSegs", "OutSegs", "sent", -1)], cond: &[] },
    Spec { id: "ipv4.tcperrors", family: "tcp", title: "IPv4 TCP Errors", units: "packets/s", priority: prio::IPV4_TCP + 20, chart_type: Line, detail: true,
        dims: &[i("Tcp.InErrs", "InErrs", "", 1), i("Tcp.InCsumErrors", "InCsumErrors", "", 1), i("Tcp.RetransSegs", "RetransSegs", "", -1)], cond: &[] },
    Spec { id: "ipv4.tcpopens", family: "tcp", title: "IPv4 TCP Opens", units: "connections/s", priority: prio::IPV4_TCP + 5, chart_type: Line, detail: true,
        dims: &[i("Tcp.ActiveOpens", "ActiveOpens", "active", 1), i("Tcp.PassiveOpens", "PassiveOpens", "passive", 1)], cond: &[] },
    Spec { id: "ipv4.tcphandshake", family: "tcp", title: "IPv4 TCP Handshake Issues", units: "events/s", priority: prio::IPV4_TCP + 30, chart_type: Line, detail: true,
        dims: &[i("Tcp.EstabResets", "EstabResets", "", 1), i("Tcp.OutRsts", "OutRsts", "", 1), i("Tcp.AttemptFails", "AttemptFails", "", 1),
            i("TcpExt.TCPSynRetrans", "TCPSynRetrans", "SynRetrans", 1)],
        cond: &["Tcp.EstabResets", "Tcp.OutRsts", "Tcp.AttemptFails"] },
    Spec { id: "ipv4.udppackets", family: "udp", title: "IPv4 UDP Packets", units: "packets/s", priority: prio::IPV4_UDP, chart_type: Line, detail: false,
        dims: &[i("Udp.InDatagrams", "InDatagrams", "received", 1), i("Udp.OutDatagrams", "OutDatagrams", "sent", -1)], cond: &[] },
    Spec { id: "ipv4.udperrors", family: "udp", title: "IPv4 UDP Errors", units: "events/s", priority: prio::IPV4_UDP + 10, chart_type: Line, detail: true,
        dims: &[i("Udp.RcvbufErrors", "RcvbufErrors", "", 1), i("Udp.SndbufErrors", "SndbufErrors", "", -1), i("Udp.InErrors", "InErrors", "", 1),
            i("Udp.NoPorts", "NoPorts", "", 1), i("Udp.InCsumErrors", "InCsumErrors", "", 1), i("Udp.IgnoredMulti", "IgnoredMulti", "", 1)], cond: &[] },
    Spec { id: "ipv4.udplite", family: "udplite", title: "IPv4 UDPLite Packets", units: "packets/s", priority: prio::IPV4_UDPLITE, chart_type: Line, detail: false,
        dims: &[i("UdpLite.InDatagrams", "InDatagrams", "received", 1), i("UdpLite.OutDatagrams", "OutDatagrams", "sent", -1)], cond: UDPLITE_COND },
    Spec { id: "ipv4.udplite_errors", family: "udplite", title: "IPv4 UDPLite Errors", units: "packets/s", priority: prio::IPV4_UDPLITE + 10, chart_type: Line, detail: false,
        dims: &[i("UdpLite.RcvbufErrors", "RcvbufErrors", "", 1), i("UdpLite.SndbufErrors", "SndbufErrors", "", -1), i("UdpLite.InErrors", "InErrors", "", 1),
            i("UdpLite.NoPorts", "NoPorts", "", 1), i("UdpLite.InCsumErrors", "InCsumErrors", "", 1), i("UdpLite.IgnoredMulti", "IgnoredMulti", "", 1)], cond: UDPLITE_COND },
    // ---- /proc/net/snmp6
    Spec { id: "system.ipv6", family: "network", title: "IPv6 Bandwidth", units: "kilobits/s", priority: prio::SYSTEM_IPV6, chart_type: Area, detail: false,
        dims: &[kb("Ip6InOctets", "InOctets", "received", 8), kb("Ip6OutOctets", "OutOctets", "sent", -8)], cond: &[] },
    Spec { id: "ipv6.packets", family: "packets", title: "IPv6 Packets", units: "packets/s", priority: prio::IPV6_PACKETS, chart_type: Line, detail: false,
        dims: &[i("Ip6InReceives", "InReceives", "received", 1), i("Ip6OutRequests", "OutRequests", "sent", -1),
            i("Ip6OutForwDatagrams", "OutForwDatagrams", "forwarded", -1), i("Ip6InDelivers", "InDelivers", "delivers", 1)], cond: &[] },
    Spec { id: "ipv6.fragsout", family: "fragments6", title: "IPv6 Fragments Sent", units: "packets/s", priority: prio::IPV6_FRAGSOUT, chart_type: Line, detail: true,
        dims: &[i("Ip6FragOKs", "FragOKs", "ok", 1), i("Ip6FragFails", "FragFails", "failed", -1), i("Ip6FragCreates", "FragCreates", "all", 1)], cond: &[] },
    Spec { id: "ipv6.fragsin", family: "fragments6", title: "IPv6 Fragments Reassembly", units: "packets/s", priority: prio::IPV6_FRAGSIN, chart_type: Line, detail: true,
        dims: &[i("Ip6ReasmOKs", "ReasmOKs", "ok", 1), i("Ip6ReasmFails", "ReasmFails", "failed", -1), i("Ip6ReasmTimeout", "ReasmTimeout", "timeout", -1),
            i("Ip6ReasmReqds", "ReasmReqds", "all", 1)], cond: &[] },
    Spec { id: "ipv6.errors", family: "errors", title: "IPv6 Errors", units: "packets/s", priority: prio::IPV6_ERRORS, chart_type: Line, detail: true,
        dims: &[i("Ip6InDiscards", "InDiscards", "", 1), i("Ip6OutDiscards", "OutDiscards", "", -1), i("Ip6InHdrErrors", "InHdrErrors", "", 1),
            i("Ip6InAddrErrors", "InAddrErrors", "", 1), i("Ip6InUnknownProtos", "InUnknownProtos", "", 1), i("Ip6InTooBigErrors", "InTooBigErrors", "", 1),
            i("Ip6InTruncatedPkts", "InTruncatedPkts", "", 1), i("Ip6InNoRoutes", "InNoRoutes", "", 1), i("Ip6OutNoRoutes", "OutNoRoutes", "", -1)],
        cond: &["Ip6InDiscards", "Ip6OutDiscards", "Ip6InHdrErrors", "Ip6InAddrErrors", "Ip6InUnknownProtos", "Ip6InTooBigErrors",
            "Ip6InTruncatedPkts", "Ip6InNoRoutes"] },
    Spec { id: "ipv6.udppackets", family: "udp6", title: "IPv6 UDP Packets", units: "packets/s", priority: prio::IPV6_UDP_PACKETS, chart_type: Line, detail: false,
        dims: &[i("Udp6InDatagrams", "InDatagrams", "received", 1), i("Udp6OutDatagrams", "OutDatagrams", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.udperrors", family: "udp6", title: "IPv6 UDP Errors", units: "events/s", priority: prio::IPV6_UDP_ERRORS, chart_type: Line, detail: true,
        dims: &[i("Udp6RcvbufErrors", "RcvbufErrors", "", 1), i("Udp6SndbufErrors", "SndbufErrors", "", -1), i("Udp6InErrors", "InErrors", "", 1),
            i("Udp6NoPorts", "NoPorts", "", 1), i("Udp6InCsumErrors", "InCsumErrors", "", 1), i("Udp6IgnoredMulti", "IgnoredMulti", "", 1)], cond: &[] },
    Spec { id: "ipv6.udplitepackets", family: "udplite6", title: "IPv6 UDPlite Packets", units: "packets/s", priority: prio::IPV6_UDPLITE_PACKETS, chart_type: Line, detail: false,
        dims: &[i("UdpLite6InDatagrams", "InDatagrams", "received", 1), i("UdpLite6OutDatagrams", "OutDatagrams", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.udpliteerrors", family: "udplite6", title: "IPv6 UDP Lite Errors", units: "events/s", priority: prio::IPV6_UDPLITE_ERRORS, chart_type: Line, detail: true,
        dims: &[i("UdpLite6RcvbufErrors", "RcvbufErrors", "", 1), i("UdpLite6SndbufErrors", "SndbufErrors", "", -1), i("UdpLite6InErrors", "InErrors", "", 1),
            i("UdpLite6NoPorts", "NoPorts", "", 1), i("UdpLite6InCsumErrors", "InCsumErrors", "", 1)], cond: &[] },
    Spec { id: "ipv6.mcast", family: "multicast6", title: "IPv6 Multicast Bandwidth", units: "kilobits/s", priority: prio::IPV6_MCAST, chart_type: Area, detail: true,
        dims: &[kb("Ip6InMcastOctets", "InMcastOctets", "received", 8), kb("Ip6OutMcastOctets", "OutMcastOctets", "sent", -8)], cond: &[] },
    Spec { id: "ipv6.bcast", family: "broadcast6", title: "IPv6 Broadcast Bandwidth", units: "kilobits/s", priority: prio::IPV6_BCAST, chart_type: Area, detail: true,
        dims: &[kb("Ip6InBcastOctets", "InBcastOctets", "received", 8), kb("Ip6OutBcastOctets", "OutBcastOctets", "sent", -8)], cond: &[] },
    Spec { id: "ipv6.mcastpkts", family: "multicast6", title: "IPv6 Multicast Packets", units: "packets/s", priority: prio::IPV6_MCAST_PACKETS, chart_type: Line, detail: true,
        dims: &[i("Ip6InMcastPkts", "InMcastPkts", "received", 1), i("Ip6OutMcastPkts", "OutMcastPkts", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.icmp", family: "icmp6", title: "IPv6 ICMP Messages", units: "messages/s", priority: prio::IPV6_ICMP, chart_type: Line, detail: false,
        dims: &[i("Icmp6InMsgs", "InMsgs", "received", 1), i("Icmp6OutMsgs", "OutMsgs", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.icmpredir", family: "icmp6", title: "IPv6 ICMP Redirects", units: "redirects/s", priority: prio::IPV6_ICMP_REDIR, chart_type: Line, detail: false,
        dims: &[i("Icmp6InRedirects", "InRedirects", "received", 1), i("Icmp6OutRedirects", "OutRedirects", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.icmperrors", family: "icmp6", title: "IPv6 ICMP Errors", units: "errors/s", priority: prio::IPV6_ICMP_ERRORS, chart_type: Line, detail: false,
        dims: &[i("Icmp6InErrors", "InErrors", "", 1), i("Icmp6OutErrors", "OutErrors", "", -1), i("Icmp6InCsumErrors", "InCsumErrors", "", 1),
            i("Icmp6InDestUnreachs", "InDestUnreachs", "", 1), i("Icmp6InPktTooBigs", "InPktTooBigs", "", 1), i("Icmp6InTimeExcds", "InTimeExcds", "", 1),
            i("Icmp6InParmProblems", "InParmProblems", "", 1), i("Icmp6OutDestUnreachs", "OutDestUnreachs", "", -1),
            i("Icmp6OutPktTooBigs", "OutPktTooBigs", "", -1), i("Icmp6OutTimeExcds", "OutTimeExcds", "", -1),
            i("Icmp6OutParmProblems", "OutParmProblems", "", -1)], cond: &[] },
    Spec { id: "ipv6.icmpechos", family: "icmp6", title: "IPv6 ICMP Echo", units: "messages/s", priority: prio::IPV6_ICMP_ECHOS, chart_type: Line, detail: false,
        dims: &[i("Icmp6InEchos", "InEchos", "", 1), i("Icmp6OutEchos", "OutEchos", "", -1), i("Icmp6InEchoReplies", "InEchoReplies", "", 1),
            i("Icmp6OutEchoReplies", "OutEchoReplies", "", -1)], cond: &[] },
    Spec { id: "ipv6.groupmemb", family: "icmp6", title: "IPv6 ICMP Group Membership", units: "messages/s", priority: prio::IPV6_ICMP_GROUPMEMB, chart_type: Line, detail: false,
        dims: &[i("Icmp6InGroupMembQueries", "InQueries", "", 1), i("Icmp6OutGroupMembQueries", "OutQueries", "", -1),
            i("Icmp6InGroupMembResponses", "InResponses", "", 1), i("Icmp6OutGroupMembResponses", "OutResponses", "", -1),
            i("Icmp6InGroupMembReductions", "InReductions", "", 1), i("Icmp6OutGroupMembReductions", "OutReductions", "", -1)], cond: &[] },
    Spec { id: "ipv6.icmprouter", family: "icmp6", title: "IPv6 Router Messages", units: "messages/s", priority: prio::IPV6_ICMP_ROUTER, chart_type: Line, detail: false,
        dims: &[i("Icmp6InRouterSolicits", "InSolicits", "", 1), i("Icmp6OutRouterSolicits", "OutSolicits", "", -1),
            i("Icmp6InRouterAdvertisements", "InAdvertisements", "", 1), i("Icmp6OutRouterAdvertisements", "OutAdvertisements", "", -1)], cond: &[] },
    Spec { id: "ipv6.icmpneighbor", family: "icmp6", title: "IPv6 Neighbor Messages", units: "messages/s", priority: prio::IPV6_ICMP_NEIGHBOR, chart_type: Line, detail: false,
        dims: &[i("Icmp6InNeighborSolicits", "InSolicits", "", 1), i("Icmp6OutNeighborSolicits", "OutSolicits", "", -1),
            i("Icmp6InNeighborAdvertisements", "InAdvertisements", "", 1), i("Icmp6OutNeighborAdvertisements", "OutAdvertisements", "", -1)], cond: &[] },
    Spec { id: "ipv6.icmpmldv2", family: "icmp6", title: "IPv6 ICMP MLDv2 Reports", units: "reports/s", priority: prio::IPV6_ICMP_LDV2, chart_type: Line, detail: false,
        dims: &[i("Icmp6InMLDv2Reports", "InMLDv2Reports", "received", 1), i("Icmp6OutMLDv2Reports", "OutMLDv2Reports", "sent", -1)], cond: &[] },
    Spec { id: "ipv6.icmptypes", family: "icmp6", title: "IPv6 ICMP Types", units: "messages/s", priority: prio::IPV6_ICMP_TYPES, chart_type: Line, detail: false,
        dims: &[i("Icmp6InType1", "InType1", "", 1), i("Icmp6InType128", "InType128", "", 1), i("Icmp6InType129", "InType129", "", 1),
            i("Icmp6InType136", "InType136", "", 1), i("Icmp6OutType1", "OutType1", "", -1), i("Icmp6OutType128", "OutType128", "", -1),
            i("Icmp6OutType129", "OutType129", "", -1), i("Icmp6OutType133", "OutType133", "", -1), i("Icmp6OutType135", "OutType135", "", -1),
            i("Icmp6OutType143", "OutType143", "", -1)], cond: &[] },
    Spec { id: "ipv6.ect", family: "packets", title: "IPv6 ECT Packets", units: "packets/s", priority: prio::IPV6_ECT, chart_type: Line, detail: false,
        dims: &[i("Ip6InNoECTPkts", "InNoECTPkts", "", 1), i("Ip6InECT1Pkts", "InECT1Pkts", "", 1), i("Ip6InECT0Pkts", "InECT0Pkts", "", 1),
            i("Ip6InCEPkts", "InCEPkts", "", 1)], cond: &[] },
];

/// A file whose counters come in header/value line pairs (netstat, snmp), or as key/value
/// lines (snmp6).
#[derive(Debug)]
struct Source {
    path: PathBuf,
    ff: Option<ProcFile>,
    pairs: bool,
    required: bool,
    failed: bool,
    /// Per line, per word: the counter slot (cached; rebuilt when the shape changes).
    map: Vec<Vec<Option<u16>>>,
}

#[derive(Debug)]
struct ChartState {
    on: OnDemand,
    dims: Vec<usize>,
    cond: Vec<usize>,
    chart: Option<ChartDims>,
}

/// The netstat/snmp/snmp6 module.
#[derive(Debug)]
pub struct ProcNetNetstat {
    ue: u32,
    sources: [Source; 3],
    keys: Vec<&'static str>,
    values: Vec<u64>,
    charts: Vec<ChartState>,
}

impl ProcNetNetstat {
    /// A collector of `PREFIX/proc/net/{netstat,snmp,snmp6}`.
    pub fn new(prefix: &Path, update_every: u32) -> ProcNetNetstat {
        let mut keys: Vec<&'static str> = Vec::new();
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        let mut slot = |k: &'static str| -> usize {
            *index.entry(k).or_insert_with(|| {
                keys.push(k);
                keys.len() - 1
            })
        };
        let charts = SPECS
            .iter()
            .map(|s| {
                let dims: Vec<usize> = s.dims.iter().map(|d| slot(d.0)).collect();
                let cond = if s.cond.is_empty() {
                    dims.clone()
                } else {
                    s.cond.iter().map(|&k| slot(k)).collect()
                };
                ChartState {
                    on: OnDemand::Auto,
                    dims,
                    cond,
                    chart: None,
                }
            })
            .collect();
        let src = |p: &str, pairs: bool, required: bool| Source {
            path: crate::host_path(prefix, p),
            ff: None,
            pairs,
            required,
            failed: false,
            map: Vec::new(),
        };
        let values = vec![0; keys.len()];
        ProcNetNetstat {
            ue: update_every,
            sources: [
                src("/proc/net/netstat", true, true),
                src("/proc/net/snmp", true, true),
                src("/proc/net/snmp6", false, false),
            ],
            keys,
            values,
            charts,
        }
    }
}

fn key_matches(key: &str, section: &[u8], name: &[u8]) -> bool {
    let k = key.as_bytes();
    if section.is_empty() {
        return k == name;
    }
    k.len() == section.len() + 1 + name.len()
        && k.starts_with(section)
        && k[section.len()] == b'.'
        && k.ends_with(name)
}

impl Source {
    fn parse(&mut self, keys: &[&'static str], values: &mut [u64]) -> Result<(), CollectError> {
        if self.failed {
            return Ok(());
        }
        if self.ff.is_none() {
            match ProcFile::open(&self.path, " \t:") {
                Ok(f) => self.ff = Some(f),
                Err(source) if self.required => {
                    return Err(CollectError::Open {
                        path: self.path.clone(),
                        source,
                    });
                }
                Err(e) => {
                    log::info!(
                        "{MODULE}: '{}' is not available ({e}); its charts are disabled",
                        self.path.display()
                    );
                    self.failed = true;
                    return Ok(());
                }
            }
        }
        let Some(ff) = self.ff.as_mut() else {
            return Ok(());
        };
        ff.read().map_err(|source| CollectError::Read {
            path: self.path.clone(),
            source,
        })?;
        let lines = ff.lines();
        let shape_ok =
            self.map.len() == lines && (0..lines).all(|l| self.map[l].len() == ff.line_words(l));
        if !shape_ok {
            self.map = (0..lines)
                .map(|l| {
                    let words = ff.line_words(l);
                    let mut m = vec![None; words];
                    if self.pairs {
                        // header line: followed by a value line with the same first word
                        let sec = ff.word_bytes(l, 0);
                        if l + 1 < lines
                            && ff.word_bytes(l + 1, 0) == sec
                            && ff
                                .word_bytes(l, 1)
                                .first()
                                .is_some_and(|b| !b.is_ascii_digit())
                        {
                            for (w, slot) in m.iter_mut().enumerate().skip(1) {
                                let name = ff.word_bytes(l, w);
                                *slot = keys
                                    .iter()
                                    .position(|k| key_matches(k, sec, name))
                                    .map(|p| p as u16);
                            }
                        }
                    } else if words >= 2 {
                        let name = ff.word_bytes(l, 0);
                        m[0] = keys
                            .iter()
                            .position(|k| key_matches(k, b"", name))
                            .map(|p| p as u16);
                    }
                    m
                })
                .collect();
        }
        for (l, m) in self.map.iter().enumerate() {
            if self.pairs {
                for (w, slot) in m.iter().enumerate() {
                    if let Some(s) = slot {
                        values[*s as usize] = ff.u64_at(l + 1, w);
                    }
                }
            } else if let Some(Some(s)) = m.first() {
                values[*s as usize] = ff.u64_at(l, 1);
            }
        }
        Ok(())
    }
}

impl crate::Collector for ProcNetNetstat {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn collect(&mut self, host: &Host, now: i64) -> Result<(), CollectError> {
        for v in self.values.iter_mut() {
            *v = 0;
        }
        for s in self.sources.iter_mut() {
            s.parse(&self.keys, &mut self.values)?;
        }
        let ue = self.ue;
        let mut buf = [0i64; 32];
        for (spec, st) in SPECS.iter().zip(self.charts.iter_mut()) {
            let nonzero = st.cond.iter().any(|&k| self.values[k] != 0);
            if !st.on.check(nonzero) {
                continue;
            }
            let chart = crate::ensure(&mut st.chart, host, now, || {
                let mut d = chart_def(
                    spec.id,
                    spec.family,
                    None,
                    spec.title,
                    spec.units,
                    MODULE,
                    spec.priority,
                    ue,
                    spec.chart_type,
                );
                d.detail = spec.detail;
                let dims = spec
                    .dims
                    .iter()
                    .map(|x| {
                        let algo = if x.5 {
                            Algorithm::Absolute
                        } else {
                            Algorithm::Incremental
                        };
                        let dd = DimDef::new(x.1).algo(algo, x.3, x.4);
                        if x.2.is_empty() { dd } else { dd.named(x.2) }
                    })
                    .collect();
                (d, dims)
            })?;
            for (o, &k) in buf.iter_mut().zip(&st.dims) {
                *o = self.values[k] as i64;
            }
            chart.update(now, &buf[..st.dims.len()]);
        }
        Ok(())
    }
}
