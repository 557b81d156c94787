//! Loopback ports for servers a test starts in another process.
//!
//! Binding port 0 and handing the number to a child process races: between the
//! probe and the child's `bind`, the kernel may give the same number to any
//! outgoing connection, because ephemeral ports come from the same range
//! (`/proc/sys/net/ipv4/ip_local_port_range`). [`unused_port`] picks numbers
//! *below* that range instead, where the kernel never assigns ports on its own,
//! and never hands out the same number twice in one process.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// Lowest port handed out; well clear of the well-known services below it.
const FIRST: u32 = 20_000;

/// Used when the kernel's ephemeral range cannot be read (Linux's default start).
const DEFAULT_EPHEMERAL_START: u32 = 32_768;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A loopback TCP port that is free now, outside the kernel's ephemeral range
/// and not returned before by this process.
///
/// Processes running at the same time start at different offsets (derived from
/// the process id), so two test binaries rarely probe the same numbers; a port
/// someone else holds is skipped.
///
/// # Panics
///
/// When every port in the range is taken (a test helper, so it fails loudly).
pub fn unused_port() -> u16 {
    let end = ephemeral_start().max(FIRST + 1_000);
    let span = end - FIRST;
    let offset = std::process::id().wrapping_mul(2_654_435_761) % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + (offset + n) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no unused loopback port in {FIRST}..{end}");
}

/// `127.0.0.1:<port>` for [`unused_port`].
pub fn unused_addr() -> String {
    format!("127.0.0.1:{}", unused_port())
}

fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(DEFAULT_EPHEMERAL_START)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| unused_port()).collect();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len(), "duplicates in {ports:?}");
        for port in ports {
            assert!(u32::from(port) >= FIRST && u32::from(port) < ephemeral_start());
            TcpListener::bind(("127.0.0.1", port)).expect("port is bindable");
        }
    }

    #[test]
    fn a_port_in_use_is_skipped() {
        let first = unused_port();
        // Occupy the next candidate, then ask again: it must not be returned.
        let held: Vec<TcpListener> = (1..=3)
            .filter_map(|step| TcpListener::bind(("127.0.0.1", first + step)).ok())
            .collect();
        let held_ports: Vec<u16> = held
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let next = unused_port();
        assert!(!held_ports.contains(&next), "{next} is held");
    }
}
